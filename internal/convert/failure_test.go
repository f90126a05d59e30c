package convert

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/mbox"
	"github.com/mb2md/mb2md/internal/source"
)

// failingSink wraps the real Maildir sink and makes the Nth write fail with err, or cancels
// the run at the Nth write.
type failingSink struct {
	MaildirSink
	n      int64
	err    error
	cancel context.CancelFunc
	writes *atomic.Int64
}

func (s failingSink) Folder(dir string, isFolder bool) (FolderSink, error) {
	fs, err := s.MaildirSink.Folder(dir, isFolder)
	if err != nil {
		return nil, err
	}
	return failingFolder{fs, s}, nil
}

type failingFolder struct {
	FolderSink
	s failingSink
}

func (f failingFolder) Create() (Temp, error) {
	t, err := f.FolderSink.Create()
	if err != nil {
		return nil, err
	}
	return &failingTemp{Temp: t, s: f.s}, nil
}

type failingTemp struct {
	Temp
	s failingSink
}

func (t *failingTemp) Write(p []byte) (int, error) {
	if err := t.inject(); err != nil {
		return 0, err
	}
	return t.Temp.Write(p)
}

// WriteCounted is what the converter calls for a message held in memory.
func (t *failingTemp) WriteCounted(p []byte, lf int64) (int, error) {
	if err := t.inject(); err != nil {
		return 0, err
	}
	return t.Temp.WriteCounted(p, lf)
}

// inject counts a write and fails it, or cancels the run, at the Nth.
func (t *failingTemp) inject() error {
	if t.s.writes.Add(1) == t.s.n {
		if t.s.cancel != nil {
			t.s.cancel()
		} else {
			// what the writer does on a failed write: remove the temp file
			_ = t.Temp.Abort()
			return t.s.err
		}
	}
	return nil
}

func writeMbox(t *testing.T, n int) (string, [32]byte) {
	t.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "From a@example.org Sat Jan  3 01:05:%02d 1996\nSubject: %d\nStatus: RO\n\nbody %d\n\n", i%60, i, i)
	}
	p := filepath.Join(t.TempDir(), "spool")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, sha256.Sum256([]byte(b.String()))
}

func hashFile(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// files lists the message files of a Maildir folder per subdir.
func files(t *testing.T, dir string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, sub := range []string{"tmp", "new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		out[sub] = len(ents)
	}
	return out
}

// failureModes are the ways a message reaches the writer: default or --compat, whole in a
// job's buffer or (a 16-byte buffer: every message is larger) streamed into its temp file
// by the reader.
var failureModes = []struct {
	name   string
	compat bool
	limit  int
}{{"default", false, 0}, {"default-streamed", false, 16}, {"compat", true, 0}, {"compat-streamed", true, 16}}

// A write error (injected EIO) stops that mailbox with a clear error: nothing partial in tmp/,
// new/ or cur/, the source unchanged, and a re-run completes the job.
func TestWriteErrorLeavesNothingPartial(t *testing.T) {
	for _, m := range failureModes {
		t.Run(m.name, func(t *testing.T) { testWriteErrorLeavesNothingPartial(t, m.compat, m.limit) })
	}
}

func testWriteErrorLeavesNothingPartial(t *testing.T, compat bool, limit int) {
	src, sum := writeMbox(t, 600)
	dest := filepath.Join(t.TempDir(), "Maildir")
	plan := &source.Plan{Dest: dest, Single: true, Mailboxes: []source.Mailbox{{Path: src}}}
	var writes atomic.Int64
	sink := failingSink{MaildirSink: MaildirSink{Options: maildir.Options{UID: -1, GID: -1}}, n: 400,
		err: &os.PathError{Op: "write", Path: dest + "/tmp/x", Err: syscall.EIO}, writes: &writes}
	rs, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now(), Sink: sink, Jobs: 2, Compat: compat, BufferLimit: limit}, nopObserver{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rs[0].Error, "input/output error") {
		t.Fatalf("error = %q, want the EIO named", rs[0].Error)
	}
	got := files(t, dest)
	if got["tmp"] != 0 {
		t.Errorf("tmp/ has %d files after the failure, want 0", got["tmp"])
	}
	delivered := got["new"] + got["cur"]
	if delivered >= 600 {
		t.Errorf("%d messages delivered despite the failure", delivered)
	}
	if hashFile(t, src) != sum {
		t.Fatal("the source mbox was modified")
	}
	// every delivered file is complete: a re-run writes exactly the rest
	rs, err = Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now(), Compat: compat}, nopObserver{})
	if err != nil || rs[0].Error != "" {
		t.Fatal(err, rs[0].Error)
	}
	if rs[0].Written != 600-delivered || rs[0].SkippedExisting != delivered {
		t.Errorf("re-run wrote %d and skipped %d; %d were delivered before", rs[0].Written, rs[0].SkippedExisting, delivered)
	}
	if got := files(t, dest); got["cur"] != 600 || got["tmp"] != 0 {
		t.Errorf("after re-run: %v", got)
	}
}

// Ctrl-C: the run stops with ErrInterrupted, leaves no temp file, and a re-run finishes it
// with every message exactly once.
func TestInterruptThenRerun(t *testing.T) {
	for _, m := range failureModes {
		t.Run(m.name, func(t *testing.T) { testInterruptThenRerun(t, m.compat, m.limit) })
	}
}

func testInterruptThenRerun(t *testing.T, compat bool, limit int) {
	src, sum := writeMbox(t, 2000)
	dest := filepath.Join(t.TempDir(), "Maildir")
	plan := &source.Plan{Dest: dest, Single: true, Mailboxes: []source.Mailbox{{Path: src}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var writes atomic.Int64
	sink := failingSink{MaildirSink: MaildirSink{Options: maildir.Options{UID: -1, GID: -1, BatchFiles: 100}}, n: 700, cancel: cancel, writes: &writes}
	_, err := Run(ctx, plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now(), Sink: sink, Compat: compat, BufferLimit: limit}, nopObserver{})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	got := files(t, dest)
	if got["tmp"] != 0 || got["cur"] >= 2000 {
		t.Fatalf("after interrupt: %v", got)
	}
	rs, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now(), Compat: compat}, nopObserver{})
	if err != nil || rs[0].Error != "" {
		t.Fatal(err, rs[0].Error)
	}
	if got := files(t, dest); got["cur"] != 2000 || got["tmp"] != 0 {
		t.Errorf("after re-run: %v", got)
	}
	if rs[0].Written+rs[0].SkippedExisting != 2000 {
		t.Errorf("re-run: %+v", rs[0])
	}
	if hashFile(t, src) != sum {
		t.Fatal("the source mbox was modified")
	}
}

// Messages larger than the buffer stream through a temp file; identical big and small
// duplicates keep their count; a re-run over big messages compares contents.
func TestLargeMessagesAndDuplicates(t *testing.T) {
	body := strings.Repeat("0123456789abcdef\n", 200_000) // 3.4 MB, more than the 1 MiB buffer
	msg := "From a@example.org Sat Jan  3 01:05:34 1996\nSubject: big\n\n" + body + "\n"
	small := "From a@example.org Sat Jan  3 01:05:34 1996\nSubject: small\n\nx\n\n"
	content := msg + small + msg + small + small
	src := filepath.Join(t.TempDir(), "spool")
	if err := os.WriteFile(src, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "Maildir")
	plan := &source.Plan{Dest: dest, Single: true, Mailboxes: []source.Mailbox{{Path: src}}}
	for run := 0; run < 2; run++ {
		rs, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now()}, nopObserver{})
		if err != nil || rs[0].Error != "" {
			t.Fatal(err, rs[0].Error)
		}
		if rs[0].Messages != 5 || rs[0].Written+rs[0].SkippedExisting != 5 || (run == 1) != (rs[0].Written == 0) {
			t.Fatalf("run %d: %+v", run, rs[0])
		}
	}
	if got := files(t, dest); got["new"] != 5 {
		t.Fatalf("files: %v", got)
	}
	ents, _ := os.ReadDir(filepath.Join(dest, "new"))
	sizes := map[int64]int{}
	for _, e := range ents {
		fi, _ := e.Info()
		sizes[fi.Size()]++
		b, _ := os.ReadFile(filepath.Join(dest, "new", e.Name()))
		if !strings.HasPrefix(string(b), "Subject: ") {
			t.Errorf("%s starts with %q", e.Name(), b[:20])
		}
	}
	if sizes[int64(len("Subject: big\n\n")+len(body))] != 2 || sizes[int64(len("Subject: small\n\nx\n"))] != 3 {
		t.Errorf("sizes %v", sizes)
	}
}

// A message the user deleted from the Maildir after a run is not restored by the next run,
// while new mail still arrives; the delivered list survives a crash before it is written.
// The same in --compat.
func TestDeletedByUserNotRestored(t *testing.T) {
	for _, compat := range []bool{false, true} {
		t.Run(fmt.Sprintf("compat=%v", compat), func(t *testing.T) { testDeletedByUserNotRestored(t, compat) })
	}
}

func testDeletedByUserNotRestored(t *testing.T, compat bool) {
	src, _ := writeMbox(t, 10)
	dest := filepath.Join(t.TempDir(), "Maildir")
	plan := &source.Plan{Dest: dest, Single: true, Mailboxes: []source.Mailbox{{Path: src}}}
	run := func() *Result {
		t.Helper()
		rs, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now(), Compat: compat}, nopObserver{})
		if err != nil || rs[0].Error != "" {
			t.Fatal(err, rs[0].Error)
		}
		return rs[0]
	}
	run()
	ents, err := os.ReadDir(filepath.Join(dest, "cur"))
	if err != nil || len(ents) != 10 {
		t.Fatalf("%d files, %v", len(ents), err)
	}
	for _, e := range ents[:3] {
		if err := os.Remove(filepath.Join(dest, "cur", e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(src, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "From a@example.org Sat Jan  3 02:00:00 1996\nSubject: new\n\nnew mail\n")
	f.Close()
	r := run()
	if r.Written != 1 || r.SkippedDeleted != 3 || r.SkippedExisting != 7 {
		t.Errorf("second run: written %d, deleted %d, existing %d; want 1, 3, 7", r.Written, r.SkippedDeleted, r.SkippedExisting)
	}
	if got := files(t, dest); got["cur"]+got["new"] != 8 {
		t.Errorf("files: %v, want 8 messages", got)
	}
	// without the list (e.g. a crash before it was written) the files still present are
	// recognised and listed again; only then can deletions be told apart
	if err := os.Remove(filepath.Join(dest, maildir.DeliveredName)); err != nil {
		t.Fatal(err)
	}
	r = run()
	if r.Written != 3 || r.SkippedExisting != 8 {
		t.Errorf("run without the list: written %d, existing %d; want 3 restored, 8 existing", r.Written, r.SkippedExisting)
	}
	b, err := os.ReadFile(filepath.Join(dest, maildir.DeliveredName))
	if err != nil || strings.Count(string(b), "\n") != 11 {
		t.Errorf("delivered list has %d lines (%v), want 11", strings.Count(string(b), "\n"), err)
	}
}

// More than 26 keywords in one folder: the first 26 in order of first use get letters
// (dovecot-keywords), the rest are reported by name.
func TestMoreThan26Keywords(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&b, "From a@example.org Sat Jan  3 01:05:34 1996\nX-Keywords: kw%02d\n\nbody %d\n\n", i, i)
	}
	src := filepath.Join(t.TempDir(), "spool")
	if err := os.WriteFile(src, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "Maildir")
	plan := &source.Plan{Dest: dest, Single: true, Mailboxes: []source.Mailbox{{Path: src}}}
	rs, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now()}, nopObserver{})
	if err != nil || rs[0].Error != "" {
		t.Fatal(err, rs[0].Error)
	}
	var dropped []string
	for _, w := range rs[0].Warnings {
		if strings.Contains(w.Message, "at most 26 keywords") {
			dropped = append(dropped, w.Message)
		}
	}
	if len(dropped) != 4 || !strings.Contains(dropped[0], `"kw26"`) || !strings.Contains(dropped[3], `"kw29"`) {
		t.Errorf("dropped-keyword warnings: %q", dropped)
	}
	kws, err := maildir.ReadKeywords(dest)
	if err != nil || len(kws) != 26 || kws[0] != "kw00" || kws[25] != "kw25" {
		t.Errorf("dovecot-keywords = %q (%v)", kws, err)
	}
	ents, _ := os.ReadDir(filepath.Join(dest, "cur"))
	letters := map[string]bool{}
	for _, e := range ents {
		if i := strings.Index(e.Name(), ":2,"); i >= 0 {
			letters[e.Name()[i+3:]] = true
		}
	}
	if len(ents) != 30 || !letters["a"] || !letters["z"] || !letters[""] {
		t.Errorf("%d files in cur/ with letters %v", len(ents), letters)
	}
}

// Converting (and dry-running) reads the source without touching its access time.
func TestSourceAtimeKept(t *testing.T) {
	src, _ := writeMbox(t, 3)
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(src, old, old); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "Maildir")
	plan := &source.Plan{Dest: dest, Single: true, Mailboxes: []source.Mailbox{{Path: src}}}
	for _, sink := range []Sink{DryRunSink{}, nil} {
		if _, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now(), Sink: sink}, nopObserver{}); err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(src, &st); err != nil {
			t.Fatal(err)
		}
		if at := time.Unix(st.Atim.Unix()); !at.Equal(old) {
			t.Errorf("source atime changed to %s", at)
		}
	}
}

// A mailbox that vanished or is not a regular file fails alone, with its path named.
func TestMailboxOpenErrors(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	good, _ := writeMbox(t, 2)
	plan := &source.Plan{Dest: filepath.Join(dir, "Maildir"), Source: dir, Mailboxes: []source.Mailbox{
		{Path: filepath.Join(dir, "gone"), Folder: []string{"gone"}},
		{Path: fifo, Folder: []string{"fifo"}},
		{Path: good, Folder: []string{"good"}},
	}}
	rs, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now()}, nopObserver{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rs[0].Error, "gone: no such file") || !strings.Contains(rs[1].Error, "fifo is not a regular file") {
		t.Errorf("errors %q, %q", rs[0].Error, rs[1].Error)
	}
	if rs[2].Error != "" || rs[2].Written != 2 {
		t.Errorf("the good mailbox: %+v", rs[2])
	}
}
