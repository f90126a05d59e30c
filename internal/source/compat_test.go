package source

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

const mboxLine = "From a@b Mon Apr  1 10:00:00 2002\n\nx\n"

// compatFolders lists the plan as "DirName" for converted files and "DirName (empty)" for
// folders mb2md creates empty.
func compatFolders(p *Plan) []string {
	var out []string
	for _, m := range p.Mailboxes {
		s := m.DirName
		if m.CompatEmpty {
			s += " (empty)"
		}
		out = append(out, s)
	}
	return out
}

func TestCompatDirName(t *testing.T) {
	mbx := regexp.MustCompile("_mbx$")
	for _, tc := range []struct {
		parent, name string
		strip        *regexp.Regexp
		want         string
	}{
		{"", "Sent", nil, ".Sent"},
		{"", "INBOX", nil, ".INBOX"},
		{"", "a.b", nil, ".a_b"},
		{"", "with space", nil, ".with space"},
		{"/lists", "debian", nil, ".lists.debian"},
		{"/lists/sub.dir", "deep", nil, ".lists.sub_dir.deep"},
		{"/lists", "notes.txt", nil, ".lists.notes_txt"},
		{"", "Trash.mbx", mbx, ".Trash"},
		{"", "top_mbx", mbx, ".top"},
		{"", "old.mbx", mbx, ".old"},
		{"/old.mbx", "child.mbx", mbx, ".old_mbx.child"},
		{"", "x_mbxy", mbx, ".x_mbxy"},
		{"", "m_mAx", regexp.MustCompile("_m.x$"), ".m"},
		{"", "\xff&bad", nil, ".\xff&bad"},
		{"", "music.bands", nil, ".music_bands"},
		{"/music.bands/live", "1970", nil, ".music_bands.live.1970"},
		{"", "a/b", nil, ".a.b"},
	} {
		if got := CompatDirName(tc.parent, tc.name, tc.strip); got != tc.want {
			t.Errorf("CompatDirName(%q, %q) = %q, want %q", tc.parent, tc.name, got, tc.want)
		}
	}
}

func TestResolveCompatTree(t *testing.T) {
	home := t.TempDir()
	src := filepath.Join(home, "mail")
	for _, f := range []string{"Sent", "INBOX", "a.b", ".hidden", "lists/debian", "lists/.hidden2", "lists/sub.dir/deep", "Trash.mbx", "日本語"} {
		write(t, filepath.Join(src, f), mboxLine)
	}
	write(t, filepath.Join(src, "empty"), "")
	write(t, filepath.Join(src, "notes.txt"), "not mail\n")
	write(t, filepath.Join(src, "lists/notes.txt"), "not mail\n")
	if err := os.MkdirAll(filepath.Join(src, "emptydir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(src, "lists", "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(src, "topfifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Home: home, Cwd: home, Source: "mail", Recurse: true, StripExt: "mbx"}
	p, err := ResolveCompat(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".INBOX", ".Sent", ".Trash", ".a_b", ".empty", ".emptydir (empty)",
		".lists (empty)", ".lists.debian", ".lists.fifo (empty)", ".lists.notes_txt (empty)",
		".lists.sub_dir (empty)", ".lists.sub_dir.deep", ".日本語"}
	if got := compatFolders(p); !reflect.DeepEqual(got, want) {
		t.Errorf("folders\n got %q\nwant %q", got, want)
	}
	if p.Single || p.Dest != filepath.Join(home, "Maildir") {
		t.Errorf("single %v dest %s", p.Single, p.Dest)
	}
	skipped := map[string]string{}
	for _, s := range p.Skipped {
		skipped[strings.TrimPrefix(s.Path, src+"/")] = s.Reason
	}
	for _, name := range []string{".hidden", "lists/.hidden2", "notes.txt", "topfifo", "lists/fifo", "lists/notes.txt"} {
		if skipped[name] == "" {
			t.Errorf("%s not reported as skipped (%v)", name, skipped)
		}
	}
	for _, m := range p.Mailboxes {
		if m.DirName == ".lists.debian" && (m.Rel != "lists/debian" || m.Path != filepath.Join(src, "lists/debian") ||
			!reflect.DeepEqual(m.Folder, []string{"lists", "debian"})) {
			t.Errorf("mailbox %+v", m)
		}
	}

	// without -R: directories skipped, no folders for them
	cfg.Recurse = false
	if p, err = ResolveCompat(cfg); err != nil {
		t.Fatal(err)
	}
	want = []string{".INBOX", ".Sent", ".Trash", ".a_b", ".empty", ".日本語"}
	if got := compatFolders(p); !reflect.DeepEqual(got, want) {
		t.Errorf("flat folders\n got %q\nwant %q", got, want)
	}
}

func TestResolveCompatListAndF(t *testing.T) {
	home := t.TempDir()
	src := filepath.Join(home, "mail")
	for _, f := range []string{"Sent", "Old", "lists/debian", "lists/other", "music.bands/Jim", "music.bands/live/1970", "toplevel"} {
		write(t, filepath.Join(src, f), mboxLine)
	}
	write(t, filepath.Join(home, ".mailboxlist"), "Sent\nlists/debian\nOld\r\nmail/lists/other\n")
	cfg := Config{Home: home, Cwd: home, Source: "mail", Recurse: true, ListFile: ".mailboxlist"}
	p, err := ResolveCompat(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// byte-equal keys: "Old\r" and "mail/lists/other" never match
	want := []string{".Old (empty)", ".Sent", ".lists (empty)", ".lists.debian", ".lists.other (empty)",
		".music_bands (empty)", ".music_bands.Jim (empty)", ".music_bands.live (empty)", ".music_bands.live.1970 (empty)",
		".toplevel (empty)"}
	if got := compatFolders(p); !reflect.DeepEqual(got, want) {
		t.Errorf("-l folders\n got %q\nwant %q", got, want)
	}

	cfg = Config{Home: home, Cwd: home, Source: "mail", SubDir: "music.bands/"}
	if p, err = ResolveCompat(cfg); err != nil {
		t.Fatal(err)
	}
	want = []string{".music_bands (empty)", ".music_bands.Jim", ".music_bands.live (empty)", ".music_bands.live.1970"}
	if got := compatFolders(p); !reflect.DeepEqual(got, want) {
		t.Errorf("-f folders\n got %q\nwant %q", got, want)
	}

	cfg.Recurse = true
	if _, err := ResolveCompat(cfg); err == nil {
		t.Error("-R with -f accepted")
	}
	cfg = Config{Home: home, Cwd: home, Source: "mail", ListFile: "missing"}
	if _, err := ResolveCompat(cfg); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing -l: %v", err)
	}
	cfg = Config{Home: home, Cwd: home, Source: "mail/Sent", Dest: "/abs/out/"}
	if p, err = ResolveCompat(cfg); err != nil {
		t.Fatal(err)
	}
	if !p.Single || len(p.Mailboxes) != 1 || p.Mailboxes[0].DirName != "" || p.Dest != "/abs/out" {
		t.Errorf("single file: %+v", p)
	}
	cfg = Config{Home: home, Cwd: home, Source: "mail", StripExt: "("}
	if _, err := ResolveCompat(cfg); err == nil {
		t.Error("bad -r regexp accepted")
	}
}

func TestIsMB2MDMbox(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]bool{
		"":                           true,
		mboxLine:                     true,
		"From a@b Mon Apr  1 2002\n": false,
		"\n" + mboxLine:              false,
		"From: a@b\n":                false,
	} {
		p := filepath.Join(dir, "f")
		write(t, p, content)
		if got := IsMB2MDMbox(p); got != want {
			t.Errorf("%q: %v, want %v", content, got, want)
		}
	}
}
