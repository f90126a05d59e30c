package source

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseMailboxList(t *testing.T) {
	in := "mail/Sent\r\nmail/Archive/2022\n\ninbox\n~/mail/Drafts\nmail/Sent\nother/x/\n"
	got, err := ParseMailboxList(strings.NewReader(in), ".mailboxlist", []string{"mail/", "~/mail/"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"Sent"}, {"Archive", "2022"}, {"INBOX"}, {"Drafts"}, {"other", "x"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := ParseMailboxList(strings.NewReader(strings.Repeat("x", maxSubsLine+1)), "f", nil); err == nil || !strings.Contains(err.Error(), "f:1: line longer") {
		t.Errorf("long line: %v", err)
	}
}

func TestParseDovecotSubscriptions(t *testing.T) {
	v1 := "Archive/2022\nEntw&APw-rfe\n\nArchive/2022\n"
	got, err := ParseDovecotSubscriptions(strings.NewReader(v1), "s")
	if err != nil || !reflect.DeepEqual(got, [][]string{{"Archive", "2022"}, {"Entw&APw-rfe"}}) {
		t.Errorf("v1: %q, %v", got, err)
	}
	v2 := "V\t2\n\nArchive\t2022\na\x01tb\nINBOX\n"
	got, err = ParseDovecotSubscriptions(strings.NewReader(v2), "s")
	if err != nil || !reflect.DeepEqual(got, [][]string{{"Archive", "2022"}, {"a\tb"}, {"INBOX"}}) {
		t.Errorf("v2: %q, %v", got, err)
	}
}

func TestReadSubscriptionFiles(t *testing.T) {
	dir := t.TempDir()
	if n, err := ReadMailboxList(filepath.Join(dir, "none"), nil); n != nil || err != nil {
		t.Errorf("missing: %v %v", n, err)
	}
	if n, err := ReadDovecotSubscriptions(filepath.Join(dir, "none")); n != nil || err != nil {
		t.Errorf("missing: %v %v", n, err)
	}
	p := filepath.Join(dir, ".subscriptions")
	os.WriteFile(p, []byte("a/b\n"), 0o600)
	if n, err := ReadDovecotSubscriptions(p); err != nil || !reflect.DeepEqual(n, [][]string{{"a", "b"}}) {
		t.Errorf("read: %q %v", n, err)
	}
	os.WriteFile(p, []byte("x\n"), 0o600)
	if n, err := ReadMailboxList(p, nil); err != nil || !reflect.DeepEqual(n, [][]string{{"x"}}) {
		t.Errorf("read: %q %v", n, err)
	}
}
