package verify

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mb2md/mb2md/internal/convert"
	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/mbox"
	"github.com/mb2md/mb2md/internal/source"
	"github.com/mb2md/mb2md/internal/testshared"
	"github.com/mb2md/mb2md/internal/testtree"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func copts() convert.Options {
	return convert.Options{Format: mbox.Auto, Loc: time.UTC, Now: testNow, BufferLimit: 4096, Jobs: 3, Sync: maildir.SyncNone}
}

type nop struct{}

func (nop) MailboxDone(*convert.Result) {}

// converted returns a plan and a fresh conversion of the generated tree.
func converted(t *testing.T) *source.Plan {
	t.Helper()
	src := t.TempDir()
	testtree.Write(t, src, testtree.All)
	plan, err := source.Resolve(source.Config{Source: src, Dest: filepath.Join(t.TempDir(), "Maildir"), Recurse: true, Cwd: "/", Home: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := convert.Run(context.Background(), plan, copts(), nop{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Error != "" {
			t.Fatal(r.Error)
		}
	}
	return plan
}

func run(t *testing.T, plan *source.Plan, strict bool) *Report {
	t.Helper()
	rep, err := Run(context.Background(), plan, Options{Convert: copts(), Strict: strict})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// pick returns a message file of the folder dir (relative to the root) matching glob.
func pick(t *testing.T, plan *source.Plan, glob string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(plan.Dest, glob))
	if len(m) == 0 {
		t.Fatalf("no file matches %s", glob)
	}
	return m[0]
}

// only checks that the report has exactly one problem, of kind k, and returns it.
func only(t *testing.T, rep *Report, k Kind) Problem {
	t.Helper()
	var ps []Problem
	for _, f := range rep.Folders {
		ps = append(ps, f.Problems...)
	}
	if len(ps) != 1 || ps[0].Kind != k {
		t.Fatalf("problems %+v, want one %s\n%s", ps, k, Text(rep))
	}
	return ps[0]
}

// atFromLine checks that the problem names the source position of a From_ line.
func atFromLine(t *testing.T, p Problem) {
	t.Helper()
	f, err := os.Open(p.Source)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := int64(1); sc.Scan(); n++ {
		if n == p.Line {
			if !strings.HasPrefix(sc.Text(), "From ") {
				t.Errorf("%s: %q is not a From_ line", p.Position(), sc.Text())
			}
			return
		}
	}
	t.Errorf("%s: no such line", p.Position())
}

// state lists every entry under root with its mode, size, mtime and content hash.
func state(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v %d %d", p, st.Mode(), st.Size(), st.ModTime().UnixNano())
		if st.Mode().IsRegular() {
			c, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %x", sha256.Sum256(c))
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestClean(t *testing.T) {
	plan := converted(t)
	before := state(t, filepath.Dir(plan.Dest))
	rep := run(t, plan, true)
	if state(t, filepath.Dir(plan.Dest)) != before {
		t.Error("verify changed the Maildir")
	}
	if !rep.Clean() || rep.Messages != 27 || rep.OK != 27 || len(rep.Folders) != 4 {
		t.Fatalf("report %+v\n%s", rep, Text(rep))
	}
	// a user reads a new message: Dovecot moves it to cur/ with no flags: still the same
	n := pick(t, plan, "new/*")
	if err := os.Rename(n, filepath.Join(plan.Dest, "cur", filepath.Base(n)+":2,")); err != nil {
		t.Fatal(err)
	}
	if rep := run(t, plan, true); !rep.Clean() {
		t.Fatalf("after new → cur:\n%s", Text(rep))
	}
}

func TestDeleted(t *testing.T) {
	plan := converted(t)
	victim := pick(t, plan, ".Sent/cur/*")
	if err := os.Remove(victim); err != nil {
		t.Fatal(err)
	}
	rep := run(t, plan, false)
	p := only(t, rep, Deleted)
	if p.Difference || rep.Differences != 0 || !rep.Clean() {
		t.Errorf("deleted counts as a difference without --strict: %+v", rep)
	}
	if p.Folder != "Sent" || p.File != victim {
		t.Errorf("problem %+v, want folder Sent, file %s", p, victim)
	}
	atFromLine(t, p)
	rep = run(t, plan, true)
	if p := only(t, rep, Missing); !p.Difference || rep.Differences != 1 {
		t.Errorf("--strict: %+v", rep)
	}
}

func TestChangedByte(t *testing.T) {
	for _, size := range []string{"small", "large"} {
		t.Run(size, func(t *testing.T) {
			plan := converted(t)
			var victim string
			files, _ := filepath.Glob(filepath.Join(plan.Dest, ".lists.debian", "*", "*"))
			for _, f := range files {
				st, _ := os.Stat(f)
				if (st.Size() > 4096) == (size == "large") {
					victim = f
					break
				}
			}
			st, _ := os.Stat(victim)
			b, err := os.ReadFile(victim)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-2] ^= 0x20
			if err := os.WriteFile(victim, b, 0o600); err != nil {
				t.Fatal(err)
			}
			_ = os.Chtimes(victim, st.ModTime(), st.ModTime())
			rep := run(t, plan, false)
			p := only(t, rep, ChangedBytes)
			if !p.Difference || p.File != victim || p.Folder != "lists/debian" {
				t.Errorf("%+v", p)
			}
			atFromLine(t, p)
		})
	}
}

func TestDuplicated(t *testing.T) {
	for _, name := range []string{"copy", "same-key"} {
		t.Run(name, func(t *testing.T) {
			plan := converted(t)
			orig := pick(t, plan, "cur/*")
			b, _ := os.ReadFile(orig)
			dst := filepath.Join(plan.Dest, "cur", "1234.copy.host:2,S")
			if name == "same-key" { // the same name in new/
				dst = filepath.Join(plan.Dest, "new", strings.SplitN(filepath.Base(orig), ":", 2)[0])
			}
			if err := os.WriteFile(dst, b, 0o600); err != nil {
				t.Fatal(err)
			}
			st, _ := os.Stat(orig)
			_ = os.Chtimes(dst, st.ModTime(), st.ModTime())
			rep := run(t, plan, false)
			if p := only(t, rep, Duplicated); p.File != dst || !p.Difference || rep.Clean() {
				t.Errorf("%+v", p)
			}
		})
	}
}

func TestFlagsChanged(t *testing.T) {
	plan := converted(t)
	victim := pick(t, plan, "cur/*:2,S")
	changed := strings.TrimSuffix(victim, "S") + "FS"
	if err := os.Rename(victim, changed); err != nil {
		t.Fatal(err)
	}
	rep := run(t, plan, false)
	if p := only(t, rep, FlagsChanged); p.Difference || !rep.Clean() || p.File != changed {
		t.Errorf("flags changed counts without --strict: %+v", p)
	}
	rep = run(t, plan, true)
	if p := only(t, rep, FlagsChanged); !p.Difference || rep.Clean() {
		t.Errorf("--strict: %+v", p)
	}
}

func TestWrongMTime(t *testing.T) {
	plan := converted(t)
	victim := pick(t, plan, ".Sent/cur/*")
	when := time.Unix(1_600_000_000, 0)
	if err := os.Chtimes(victim, when, when); err != nil {
		t.Fatal(err)
	}
	rep := run(t, plan, false)
	if p := only(t, rep, WrongMTime); !p.Difference || p.File != victim {
		t.Errorf("%+v", p)
	}
}

func TestMissingFolder(t *testing.T) {
	plan := converted(t)
	if err := os.RemoveAll(filepath.Join(plan.Dest, ".lists.debian")); err != nil {
		t.Fatal(err)
	}
	rep := run(t, plan, false)
	p := only(t, rep, MissingFolder)
	if !p.Difference || p.Folder != "lists/debian" || !strings.Contains(p.Detail, "11 messages") {
		t.Errorf("%+v", p)
	}
}

func TestExtraAndForeign(t *testing.T) {
	plan := converted(t)
	// a file named like ours with a key no message has
	extra := filepath.Join(plan.Dest, "cur", maildir.Name(maildir.Key{Hash: [16]byte{1, 2, 3}}, testNow, 3, 3)+":2,S")
	if err := os.WriteFile(extra, []byte("xyz"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := run(t, plan, false)
	if p := only(t, rep, Extra); !p.Difference || p.File != extra {
		t.Errorf("%+v", p)
	}
	if err := os.Remove(extra); err != nil {
		t.Fatal(err)
	}
	// mail delivered since the conversion
	foreign := filepath.Join(plan.Dest, "new", "1767323045.M1P2.host")
	if err := os.WriteFile(foreign, []byte("Subject: new\n\nhi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if p := only(t, run(t, plan, false), Foreign); p.Difference {
		t.Errorf("foreign counts without --strict: %+v", p)
	}
	if p := only(t, run(t, plan, true), Foreign); !p.Difference {
		t.Errorf("foreign does not count with --strict: %+v", p)
	}
}

func TestSourceUnreadable(t *testing.T) {
	plan := converted(t)
	plan.Mailboxes = append(plan.Mailboxes, source.Mailbox{Path: filepath.Join(t.TempDir(), "gone"), Folder: []string{"gone"}})
	rep := run(t, plan, false)
	if rep.SourceErrors != 1 || rep.Clean() {
		t.Errorf("%+v", rep)
	}
}

// A clean conversion of the whole corpus verifies, even with --strict.
func TestCorpus(t *testing.T) {
	shared := testshared.Dir()
	if shared == "" {
		t.Skip("../shared/corpus/mbox not found next to the repository; skipping the corpus test")
	}
	plan, err := source.Resolve(source.Config{Source: filepath.Join(shared, "corpus", "mbox"), Dest: filepath.Join(t.TempDir(), "Maildir"),
		Recurse: true, Cwd: "/", Home: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := convert.Run(context.Background(), plan, copts(), nop{})
	if err != nil {
		t.Fatal(err)
	}
	written := 0
	for _, r := range rs {
		written += r.Written
	}
	rep := run(t, plan, true)
	if !rep.Clean() || rep.Messages != written || rep.OK != written {
		t.Fatalf("corpus: %d written, report %d messages %d ok\n%s", written, rep.Messages, rep.OK, Text(rep))
	}
	t.Logf("corpus: %d folders, %d messages verified", len(rep.Folders), rep.Messages)
}
