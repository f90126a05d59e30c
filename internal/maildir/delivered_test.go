package maildir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The delivered list survives a Save and a new ReadDelivered, lists each key once however
// often runs record it, and a damaged line is refused with file:line.
func TestDeliveredRoundTrip(t *testing.T) {
	dir := t.TempDir()
	d, err := ReadDelivered(dir)
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := Key{Hash: [16]byte{1}, N: 0}, Key{Hash: [16]byte{1}, N: 1}
	if d.Has(k1) {
		t.Fatal("an empty list has a key")
	}
	d.Record(k2)
	d.Record(k1)
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	d, err = ReadDelivered(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Has(k1) || !d.Has(k2) || d.Has(Key{Hash: [16]byte{2}}) {
		t.Fatalf("after a save: Has(k1)=%v Has(k2)=%v", d.Has(k1), d.Has(k2))
	}
	// a later run finds k1 delivered again (it records it) and delivers k3
	k3 := Key{Hash: [16]byte{0, 9}}
	d.Record(k1)
	d.Record(k3)
	if err := d.Save(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, DeliveredName))
	if err != nil {
		t.Fatal(err)
	}
	want := "1H01000000000000000000000000000000\n0H01000000000000000000000000000000\n0H00090000000000000000000000000000\n"
	if string(b) != want {
		t.Fatalf("file:\n%s\nwant (in the order recorded, each key once):\n%s", b, want)
	}
	if err := os.WriteFile(filepath.Join(dir, DeliveredName), []byte(want+"garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = ReadDelivered(dir)
	if err == nil || !strings.Contains(err.Error(), DeliveredName+":4: not a message key") {
		t.Fatalf("damaged list: %v, want an error at line 4", err)
	}
}

// The state files (dovecot-keywords, subscriptions, mb2md-delivered) may be missing, which is
// no error; a file that cannot be opened is an error that names it.
func TestStateFileUnreadable(t *testing.T) {
	dir := t.TempDir()
	if kws, err := ReadKeywords(dir); err != nil || kws != nil {
		t.Fatalf("missing dovecot-keywords: %v, %v", kws, err)
	}
	for _, name := range []string{KeywordsName, SubscriptionsFN, DeliveredName} {
		p := filepath.Join(dir, name)
		if err := os.Symlink(name, p); err != nil { // a loop: open fails with ELOOP
			t.Fatal(err)
		}
	}
	_, err1 := ReadKeywords(dir)
	_, err2 := ReadSubscriptions(dir, '.')
	_, err3 := ReadDelivered(dir)
	for i, err := range []error{err1, err2, err3} {
		name := []string{KeywordsName, SubscriptionsFN, DeliveredName}[i]
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, name)) {
			t.Errorf("%s unreadable: %v, want an error naming it", name, err)
		}
	}
}
