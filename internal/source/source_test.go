package source

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func folders(p *Plan) []string {
	var out []string
	for _, m := range p.Mailboxes {
		kind := "F"
		if m.Path == "" {
			kind = "D"
		}
		out = append(out, kind+":"+strings.Join(m.Folder, "/"))
	}
	return out
}

func TestPathResolution(t *testing.T) {
	home := t.TempDir()
	cwd := t.TempDir()
	write(t, filepath.Join(home, "inbox.mbox"), "From a Mon Jan  1 00:00:00 2001\n\n")
	write(t, filepath.Join(cwd, "here.mbox"), "From a Mon Jan  1 00:00:00 2001\n\n")
	cfg := Config{Home: home, Cwd: cwd}

	cfg.Source = "inbox.mbox"
	p, err := Resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.Source != filepath.Join(home, "inbox.mbox") || p.Dest != filepath.Join(home, "Maildir") || !p.Single {
		t.Errorf("HOME-relative: got source %s dest %s single %v", p.Source, p.Dest, p.Single)
	}

	cfg.Source, cfg.Dest = "./here.mbox", "./out/"
	if p, err = Resolve(cfg); err != nil {
		t.Fatal(err)
	}
	if p.Source != filepath.Join(cwd, "here.mbox") || p.Dest != filepath.Join(cwd, "out") {
		t.Errorf("cwd-relative: got source %s dest %s", p.Source, p.Dest)
	}

	cfg.Source = "/nonexistent/x"
	if _, err = Resolve(cfg); err == nil || !strings.Contains(err.Error(), "/nonexistent/x") {
		t.Errorf("missing source: err = %v", err)
	}

	cfg = Config{Home: filepath.Join(home, "gone"), Cwd: cwd, Source: "x"}
	if _, err = Resolve(cfg); err == nil || !strings.Contains(err.Error(), "home directory") {
		t.Errorf("missing home: err = %v", err)
	}
}

func TestUsage(t *testing.T) {
	var ue *UsageError
	if _, err := Resolve(Config{}); err == nil || !asUsage(err, &ue) {
		t.Errorf("no -m/-s: err = %v, want usage error", err)
	}
	if _, err := Resolve(Config{Source: "/tmp", Recurse: true, SubDir: "x"}); err == nil || !asUsage(err, &ue) {
		t.Errorf("-R with -f: err = %v, want usage error", err)
	}
}

func asUsage(err error, ue **UsageError) bool {
	u, ok := err.(*UsageError)
	*ue = u
	return ok
}

func TestSpoolLookup(t *testing.T) {
	d1, d2 := t.TempDir(), t.TempDir()
	write(t, filepath.Join(d2, "alice"), "")
	cfg := Config{Spool: true, User: "alice", SpoolDirs: []string{d1, d2}, Cwd: "/", Home: t.TempDir()}
	p, err := Resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.Source != filepath.Join(d2, "alice") || !p.Single {
		t.Errorf("got %s", p.Source)
	}
	// $MAIL wins even over an existing spool, and is taken relative to the cwd.
	cwd := t.TempDir()
	write(t, filepath.Join(cwd, "mymail"), "")
	m := "mymail"
	cfg.Mail, cfg.Cwd = &m, cwd
	if p, err = Resolve(cfg); err != nil || p.Source != filepath.Join(cwd, "mymail") {
		t.Errorf("MAIL: got %v %v", p, err)
	}
	// -m beats -s: -s is not even looked at.
	cfg.Source = "/does/not/exist"
	if _, err = Resolve(cfg); err != nil {
		t.Errorf("-m with bad -s: %v", err)
	}
	cfg = Config{Spool: true, User: "bob", SpoolDirs: []string{d1, d2}, Cwd: "/", Home: t.TempDir()}
	if _, err = Resolve(cfg); err == nil || !strings.Contains(err.Error(), filepath.Join(d1, "bob")) {
		t.Errorf("no spool: err = %v", err)
	}
}

func TestDirectoryModes(t *testing.T) {
	src := t.TempDir()
	mb := "From a Mon Jan  1 00:00:00 2001\n\nx\n"
	write(t, filepath.Join(src, "Sent"), mb)
	write(t, filepath.Join(src, "INBOX"), mb)
	write(t, filepath.Join(src, "a.b"), mb)
	write(t, filepath.Join(src, ".hidden"), mb)
	write(t, filepath.Join(src, "Trash.mbx"), mb)
	write(t, filepath.Join(src, "lists", "debian"), mb)
	write(t, filepath.Join(src, "lists", "sub.dir", "deep"), mb)
	write(t, filepath.Join(src, "lists", ".hidden2"), mb)
	if err := syscall.Mkfifo(filepath.Join(src, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Source: src, Dest: "/x", Cwd: "/", Home: "/"}

	p, err := Resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"F:", "F:Sent", "F:Trash_mbx", "F:a_b"}
	if got := folders(p); !reflect.DeepEqual(got, want) {
		t.Errorf("flat: got %q, want %q", got, want)
	}
	reasons := map[string]string{}
	for _, s := range p.Skipped {
		reasons[filepath.Base(s.Path)] = s.Reason
	}
	for name, want := range map[string]string{".hidden": "hidden", "fifo": "FIFO", "lists": "-R"} {
		if !strings.Contains(reasons[name], want) {
			t.Errorf("skip reason for %s = %q, want it to mention %q", name, reasons[name], want)
		}
	}

	cfg.Recurse, cfg.StripExt = true, "mbx"
	if p, err = Resolve(cfg); err != nil {
		t.Fatal(err)
	}
	want = []string{"F:", "F:Sent", "F:Trash", "F:a_b", "D:lists", "F:lists/debian", "D:lists/sub_dir", "F:lists/sub_dir/deep"}
	if got := folders(p); !reflect.DeepEqual(got, want) {
		t.Errorf("-R -r mbx: got %q, want %q", got, want)
	}

	cfg.Recurse, cfg.StripExt, cfg.SubDir = false, "", "lists/"
	if p, err = Resolve(cfg); err != nil {
		t.Fatal(err)
	}
	want = []string{"D:lists", "F:lists/debian", "D:lists/sub_dir", "F:lists/sub_dir/deep"}
	if got := folders(p); !reflect.DeepEqual(got, want) {
		t.Errorf("-f lists: got %q, want %q", got, want)
	}
	cfg.SubDir = "nope"
	if _, err = Resolve(cfg); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("-f missing: err = %v", err)
	}
}

func TestList(t *testing.T) {
	home := t.TempDir()
	src := filepath.Join(home, "mail")
	mb := "From a Mon Jan  1 00:00:00 2001\n\nx\n"
	write(t, filepath.Join(src, "Sent"), mb)
	write(t, filepath.Join(src, "Old"), mb)
	write(t, filepath.Join(src, "lists", "debian"), mb)
	write(t, filepath.Join(src, "lists", "other"), mb)
	list := filepath.Join(t.TempDir(), "|list") // a name mb2md's 2-arg open would misread
	write(t, list, "Sent\r\nmail/lists/debian\n")
	p, err := Resolve(Config{Source: src, Recurse: true, ListFile: list, Home: home, Cwd: "/", Dest: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"D:lists", "F:lists/debian", "F:Sent"}
	got := folders(p)
	if !reflect.DeepEqual(got, []string{"D:lists", "F:lists/debian", "F:Sent"}) && !reflect.DeepEqual(got, []string{"F:Sent", "D:lists", "F:lists/debian"}) {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := Resolve(Config{Source: src, ListFile: "/nonexistent", Home: home, Cwd: "/", Dest: "/x"}); err == nil || !strings.Contains(err.Error(), "-l") {
		t.Errorf("missing list: err = %v", err)
	}
}

func TestSymlinkLoop(t *testing.T) {
	src := t.TempDir()
	write(t, filepath.Join(src, "a", "box"), "From a Mon Jan  1 00:00:00 2001\n\nx\n")
	if err := os.Symlink("..", filepath.Join(src, "a", "up")); err != nil {
		t.Fatal(err)
	}
	p, err := Resolve(Config{Source: src, Recurse: true, Home: "/", Cwd: "/", Dest: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Mailboxes) != 2 {
		t.Errorf("got %q", folders(p))
	}
}
