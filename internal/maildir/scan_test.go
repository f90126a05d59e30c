package maildir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

func TestScanKeysReadOnly(t *testing.T) {
	root := t.TempDir()
	missing := filepath.Join(root, "Maildir")
	keys, err := ScanKeys(missing)
	if err != nil || len(keys) != 0 {
		t.Fatalf("missing folder: %v, %v", keys, err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatal("ScanKeys created the folder")
	}
	if _, err := ScanFolder(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ScanFolder of a missing folder: %v", err)
	}

	dir := filepath.Join(root, "M")
	for _, d := range []string{"new", "cur"} { // no tmp/: ScanKeys must not need or make it
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	k1 := Key{Hash: [16]byte{1}, N: 0}
	k2 := Key{Hash: [16]byte{2}, N: 3}
	when := time.Unix(1_000_000_000, 0)
	names := map[string]string{
		"new/" + Name(k1, when, 10, 11):                   "",
		"cur/" + Name(k2, when, 5, 5) + ":2,FS":           "",
		"cur/1234.M1P2.otherhost:2,S":                     "",
		"cur/.hidden":                                     "",
		"new/" + Name(Key{Hash: [16]byte{9}}, when, 1, 1): "",
	}
	for n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keys, err = ScanKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || keys[k1] != "new/"+Name(k1, when, 10, 11) || keys[k2] != "cur/"+Name(k2, when, 5, 5)+":2,FS" {
		t.Errorf("keys %v", keys)
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp")); !os.IsNotExist(err) {
		t.Error("ScanKeys created tmp/")
	}
	es, err := ScanFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Rel()+"|"+map[bool]string{true: "ours", false: "other"}[e.Ours]+"|"+e.Info)
	}
	sort.Strings(got)
	want := []string{
		"cur/1234.M1P2.otherhost:2,S|other|S",
		"cur/" + Name(k2, when, 5, 5) + ":2,FS|ours|FS",
		"new/" + Name(k1, when, 10, 11) + "|ours|",
		"new/" + Name(Key{Hash: [16]byte{9}}, when, 1, 1) + "|ours|",
	}
	sort.Strings(want)
	if len(got) != len(want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("entry %q, want %q", got[i], want[i])
		}
	}
	if k, ok := ParseName(Name(k2, when, 5, 5) + ":2,S"); !ok || k != k2 {
		t.Errorf("ParseName: %v %v", k, ok)
	}
}
