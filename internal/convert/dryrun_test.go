package convert

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/mbox"
	"github.com/mb2md/mb2md/internal/source"
	"github.com/mb2md/mb2md/internal/testshared"
	"github.com/mb2md/mb2md/internal/testtree"
)

// treeState is what a dry run must not change: every entry's type, mode, size, mtime and
// (files) content, directories included.
func treeState(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	if _, err := os.Lstat(root); os.IsNotExist(err) {
		return m
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		s := fmt.Sprintf("%v %d %d", st.Mode(), st.Size(), st.ModTime().UnixNano())
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			s += fmt.Sprintf(" ino=%d nlink=%d ctime=%d.%d", sys.Ino, sys.Nlink, sys.Ctim.Sec, sys.Ctim.Nsec)
		}
		if st.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		rel, _ := filepath.Rel(root, p)
		m[rel] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sameTree(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	if reflect.DeepEqual(before, after) {
		return
	}
	for k, v := range after {
		if before[k] != v {
			t.Errorf("%s: %s changed or appeared: %q, was %q", what, k, v, before[k])
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			t.Errorf("%s: %s disappeared", what, k)
		}
	}
}

func treePlan(t *testing.T, src, dest string) *source.Plan {
	t.Helper()
	plan, err := source.Resolve(source.Config{Source: src, Dest: dest, Recurse: true, Cwd: "/", Home: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func runWith(t *testing.T, plan *source.Plan, sink Sink) []*Result {
	t.Helper()
	rs, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: testNow,
		BufferLimit: 4096, Jobs: 3, Sink: sink, Sync: maildir.SyncNone}, nopObserver{})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// dryThenReal runs a dry run, checks it changed nothing, then a real run, and checks that the
// dry run announced exactly what the real run did.
func dryThenReal(t *testing.T, plan *source.Plan, srcRoot string) []*Result {
	t.Helper()
	watch := filepath.Dir(plan.Dest) // the parent too: no directory may appear
	srcBefore, dstBefore := treeState(t, srcRoot), treeState(t, watch)
	dry := runWith(t, plan, DryRunSink{})
	sameTree(t, "source", srcBefore, treeState(t, srcRoot))
	sameTree(t, "destination", dstBefore, treeState(t, watch))
	real := runWith(t, plan, nil)
	if !reflect.DeepEqual(dry, real) {
		for i := range dry {
			if i < len(real) && !reflect.DeepEqual(dry[i], real[i]) {
				t.Errorf("mailbox %d:\ndry run %+v\nreal    %+v", i, *dry[i], *real[i])
			}
		}
		if len(dry) != len(real) {
			t.Errorf("dry run has %d results, real run %d", len(dry), len(real))
		}
	}
	return real
}

func TestDryRunPredictsFirstRun(t *testing.T) {
	src := t.TempDir()
	testtree.Write(t, src, testtree.All)
	dest := filepath.Join(t.TempDir(), "Maildir")
	rs := dryThenReal(t, treePlan(t, src, dest), src)
	total := 0
	for _, r := range rs {
		if r.Error != "" || r.SkippedExisting != 0 {
			t.Errorf("%+v", *r)
		}
		total += r.Written
	}
	if total != 27 {
		t.Errorf("written %d, want 27", total)
	}
}

func TestDryRunPartialDestination(t *testing.T) {
	src := t.TempDir()
	testtree.Write(t, src, 5) // the first 5 messages of each folder are converted
	dest := filepath.Join(t.TempDir(), "Maildir")
	runWith(t, treePlan(t, src, dest), nil)
	// a user read a new message: it moved to cur/ and got a flag
	news, _ := filepath.Glob(filepath.Join(dest, "new", "*"))
	if len(news) == 0 {
		t.Fatal("no message in new/")
	}
	if err := os.Rename(news[0], filepath.Join(dest, "cur", filepath.Base(news[0])+":2,S")); err != nil {
		t.Fatal(err)
	}
	// and one folder was removed entirely
	if err := os.RemoveAll(filepath.Join(dest, ".Sent")); err != nil {
		t.Fatal(err)
	}
	testtree.Write(t, src, testtree.All)
	rs := dryThenReal(t, treePlan(t, src, dest), src)
	written, skipped := 0, 0
	for _, r := range rs {
		written += r.Written
		skipped += r.SkippedExisting
	}
	if written != 27-10 || skipped != 10 {
		t.Errorf("written %d, skipped %d; want 17 and 10", written, skipped)
	}
	// a dry run after it announces nothing more to do
	for _, r := range runWith(t, treePlan(t, src, dest), DryRunSink{}) {
		if r.Written != 0 || r.SkippedExisting != r.Messages {
			t.Errorf("after the real run: %+v", *r)
		}
	}
}

// A big existing file with the right key but other content is not taken for the message.
func TestDryRunComparesContent(t *testing.T) {
	src := t.TempDir()
	testtree.Write(t, src, testtree.All)
	dest := filepath.Join(t.TempDir(), "Maildir")
	plan := treePlan(t, src, dest)
	runWith(t, plan, nil)
	var victim string
	_ = filepath.WalkDir(filepath.Join(dest, "cur"), func(p string, d fs.DirEntry, err error) error {
		if fi, e := os.Stat(p); e == nil && fi.Size() > 4096 && victim == "" {
			victim = p
		}
		return nil
	})
	if victim == "" {
		t.Fatal("no large message in cur/")
	}
	b, _ := os.ReadFile(victim)
	b[len(b)/2] ^= 1
	if err := os.WriteFile(victim, b, 0o600); err != nil {
		t.Fatal(err)
	}
	rs := dryThenReal(t, plan, src)
	written := 0
	for _, r := range rs {
		written += r.Written
	}
	if written != 1 {
		t.Errorf("written %d, want 1 (the message whose file was altered)", written)
	}
}

func TestDryRunPredictsErrors(t *testing.T) {
	src := t.TempDir()
	testtree.Write(t, src, 3)
	dest := filepath.Join(t.TempDir(), "no", "Maildir")
	_, err := Run(context.Background(), treePlan(t, src, dest), Options{Loc: time.UTC, Now: testNow, Sink: DryRunSink{}}, nopObserver{})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v, want the missing parent named", err)
	}
	if _, err := os.Stat(filepath.Dir(dest)); !os.IsNotExist(err) {
		t.Fatal("the dry run created a directory")
	}
	// a file where a folder directory would go
	dest = filepath.Join(t.TempDir(), "Maildir")
	if err := os.MkdirAll(dest, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dest, ".Sent"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	rs := runWith(t, treePlan(t, src, dest), DryRunSink{})
	found := false
	for _, r := range rs {
		if r.Folder == "Sent" {
			found = strings.Contains(r.Error, "exists but is not a directory")
		} else if r.Error != "" {
			t.Errorf("%s: %s", r.Folder, r.Error)
		}
	}
	if !found {
		t.Errorf("no error for Sent: %+v", rs)
	}
}

// On the whole corpus: the dry run changes nothing and announces the real run's counts.
func TestDryRunCorpus(t *testing.T) {
	shared := testshared.Dir()
	if shared == "" {
		t.Skip("../shared/corpus/mbox not found next to the repository; skipping the corpus test")
	}
	src := filepath.Join(shared, "corpus", "mbox")
	dest := filepath.Join(t.TempDir(), "Maildir")
	plan := treePlan(t, src, dest)
	rs := dryThenReal(t, plan, src)
	msgs := 0
	for _, r := range rs {
		msgs += r.Written
	}
	if msgs < 100 {
		t.Errorf("only %d messages written from the corpus", msgs)
	}
	rs = dryThenReal(t, plan, src) // over a complete destination: everything already there
	for _, r := range rs {
		if r.Written != 0 {
			t.Errorf("%s: second run wrote %d", r.Source, r.Written)
		}
	}
	t.Logf("corpus: %d mailboxes, %d messages", len(rs), msgs)
}
