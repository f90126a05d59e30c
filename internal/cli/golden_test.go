package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

var uidvalidityRE = regexp.MustCompile(`V[0-9]+ N([0-9]+) G[0-9a-f]+`)

var update = flag.Bool("update", false, "rewrite the golden listings in testdata/golden")

// listing is a canonical, deterministic description of a Maildir tree: every directory and
// file with its mode, and for messages mtime, size and sha256 of the content.
func listing(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			lines = append(lines, fmt.Sprintf("D %s %o", rel, fi.Mode().Perm()))
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch name := d.Name(); {
		case strings.HasPrefix(name, "dovecot-uidvalidity"):
			// time-based values, as Dovecot's own: only that they exist is stable
			lines = append(lines, "F "+filepath.Join(filepath.Dir(rel), "dovecot-uidvalidity*"))
			return nil
		case name == "dovecot-uidlist":
			// UIDVALIDITY and the mailbox GUID are fresh per folder; UIDs and names are not
			body := uidvalidityRE.ReplaceAllString(string(b), "V* N$1 G*")
			lines = append(lines, fmt.Sprintf("F %s %o\n%s", rel, fi.Mode().Perm(), strings.TrimSpace(body)))
			return nil
		}
		mtime := "" // only a message's mtime means something (INTERNALDATE)
		if sub := filepath.Base(filepath.Dir(p)); sub == "cur" || sub == "new" {
			mtime = fmt.Sprintf(" mtime=%d", fi.ModTime().Unix())
		}
		lines = append(lines, fmt.Sprintf("F %s %o%s size=%d sha256=%x", rel, fi.Mode().Perm(), mtime, len(b), sha256.Sum256(b)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// TestGoldenSample converts the bundled sample (the README's first command) and compares the
// whole Maildir with testdata/golden/sample.txt (go test -run TestGoldenSample -update).
func TestGoldenSample(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "Maildir")
	var stdout, stderr bytes.Buffer
	env := Env{
		Args:   []string{"-s", "../../testdata/sample", "-R", "-d", dest, "--tz", "UTC", "--json"},
		Stdout: &stdout, Stderr: &stderr, Stdin: strings.NewReader(""),
		Getenv: func(string) (string, bool) { return "", false },
		Cwd:    mustGetwd(t),
		Now:    func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) },
	}
	env.Args[1] = filepath.Join(env.Cwd, "../../testdata/sample")
	if code := Run(context.Background(), env); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	got := listing(t, dest)
	golden := filepath.Join("testdata", "golden", "sample.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("Maildir differs from %s (run with -update after checking):\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
	for _, s := range []string{`"messages": 3`, `"not_mbox": true`, `"folder": "lists/debian_announce"`, `"errors": 0`} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("JSON report lacks %s:\n%s", s, stdout.String())
		}
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
