package maildir

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestFolderDir(t *testing.T) {
	def, utf, raw := NameOptions{}, NameOptions{UTF8: true}, NameOptions{Raw: true}
	tests := []struct {
		in   []string
		opt  NameOptions
		want string
	}{
		{nil, def, ""},
		{[]string{"INBOX"}, def, ""},
		{[]string{"inbox"}, def, ""},
		{[]string{"InBoX"}, raw, ""},
		{[]string{"INBOX", "sub"}, def, ".INBOX.sub"}, // INBOX only special as the single component
		{[]string{"lists", "inbox"}, def, ".lists.inbox"},
		{[]string{"Sent"}, def, ".Sent"},
		{[]string{"lists", "debian"}, def, ".lists.debian"},
		{[]string{"a.b"}, def, ".a_b"},
		{[]string{"lists", "sub.dir", "deep"}, def, ".lists.sub_dir.deep"},
		{[]string{"music.bands", "live", "1970"}, raw, ".music_bands.live.1970"},
		{[]string{"with space"}, def, ".with space"},
		{[]string{"R&D"}, def, ".R&-D"},
		{[]string{"R&D"}, utf, ".R&D"},
		{[]string{"R&D"}, raw, ".R&D"},
		{[]string{"Entwürfe"}, def, ".Entw&APw-rfe"},
		{[]string{"Entwürfe"}, utf, ".Entwürfe"},
		{[]string{"Entwürfe"}, raw, ".Entwürfe"},
		{[]string{"ゴミ箱", "古い"}, def, ".&MLQw33ux-.&U+QwRA-"},
		{[]string{"日本語"}, utf, ".日本語"},
		{[]string{"&AMQ-rger"}, def, ".&AMQ-rger"}, // already mUTF-7: not encoded twice
		{[]string{"&AMQ-rger"}, utf, ".Ärger"},     // decoded for :UTF-8, the same IMAP name
		{[]string{"&AMQ-rger"}, raw, ".&AMQ-rger"},
		{[]string{"Entw\xfcrfe"}, def, ".Entw&APw-rfe"}, // Latin-1 file name
		{[]string{"Entw\xfcrfe"}, utf, ".Entwürfe"},
		{[]string{"Entw\xfcrfe"}, raw, ".Entw\xfcrfe"},
		{[]string{"a", "", "b"}, def, ".a.b"}, // empty components collapse, like "//" in mb2md
		{[]string{"..", "x/y"}, def, ".__.x_y"},
	}
	for _, tt := range tests {
		if got := FolderDir(tt.in, tt.opt); got != tt.want {
			t.Errorf("FolderDir(%q, %+v) = %q, want %q", tt.in, tt.opt, got, tt.want)
		}
	}
}

func modeOf(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode()
}

func TestEnsure(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	root := filepath.Join(t.TempDir(), "Maildir")
	if err := Ensure(root, false); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"", "tmp", "new", "cur"} {
		if m := modeOf(t, filepath.Join(root, d)); m != os.ModeDir|0o700 {
			t.Errorf("%s/%s: mode %v, want drwx------", root, d, m)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "maildirfolder")); !os.IsNotExist(err) {
		t.Errorf("root has a maildirfolder marker (err %v)", err)
	}
	sub := filepath.Join(root, ".a.b")
	if err := Ensure(sub, true); err != nil {
		t.Fatal(err)
	}
	if m := modeOf(t, filepath.Join(sub, "maildirfolder")); m != 0o600 {
		t.Errorf("maildirfolder mode %v, want -rw-------", m)
	}
	if st, _ := os.Stat(filepath.Join(sub, "maildirfolder")); st.Size() != 0 {
		t.Errorf("maildirfolder not empty: %d bytes", st.Size())
	}
	// existing dirs are reused, a second call changes nothing
	if err := os.WriteFile(filepath.Join(sub, "cur", "keep"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(sub, true); err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
	if _, err := os.Stat(filepath.Join(sub, "cur", "keep")); err != nil {
		t.Errorf("existing content lost: %v", err)
	}
}

func TestEnsureErrors(t *testing.T) {
	base := t.TempDir()
	// missing parent
	missing := filepath.Join(base, "no", "such", "Maildir")
	err := Ensure(missing, false)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(base, "no", "such")) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Ensure with a missing parent: %v, want an error naming the parent", err)
	}
	if _, err := os.Stat(filepath.Join(base, "no")); !os.IsNotExist(err) {
		t.Errorf("the parent was created")
	}
	// existing non-directory: the maildir itself
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(file, false); err == nil || !strings.Contains(err.Error(), file+" exists but is not a directory") {
		t.Errorf("Ensure on a file: %v", err)
	}
	// ... or one of tmp/new/cur
	md := filepath.Join(base, "md")
	if err := os.MkdirAll(filepath.Join(md, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(md, "cur"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(md, false); err == nil || !strings.Contains(err.Error(), filepath.Join(md, "cur")+" exists but is not a directory") {
		t.Errorf("Ensure with cur a file: %v", err)
	}
	// maildirfolder is a directory
	f2 := filepath.Join(base, ".f")
	if err := os.MkdirAll(filepath.Join(f2, "maildirfolder"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(f2, true); err == nil || !strings.Contains(err.Error(), filepath.Join(f2, "maildirfolder")) {
		t.Errorf("Ensure with maildirfolder a directory: %v", err)
	}
	// a parent that is a file
	if err := Ensure(filepath.Join(file, "x"), false); err == nil || !strings.Contains(err.Error(), filepath.Join(file, "x")) {
		t.Errorf("Ensure below a file: %v", err)
	}
}
