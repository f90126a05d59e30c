package maildir

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newMaildir makes a Maildir folder in a temp dir.
func newMaildir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), ".f")
	if err := Ensure(dir, true); err != nil {
		t.Fatal(err)
	}
	return dir
}

func openW(t testing.TB, dir string, opt Options) *Writer {
	t.Helper()
	opt.UID, opt.GID = -1, -1
	w, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Abort)
	return w
}

// tmpModeNames name the ways of making temp files in subtests.
var tmpModeNames = map[tmpMode]string{tmpNamed: "named", tmpAnon: "unnamed", tmpAnonProc: "unnamed-via-proc"}

// forModes runs f once per way of making temp files: named always; unnamed (O_TMPFILE,
// linked with AT_EMPTY_PATH or through /proc/self/fd) where the file system of t.TempDir
// supports it, which Open finds out.
func forModes(t *testing.T, f func(t *testing.T, mode tmpMode)) {
	t.Helper()
	for _, m := range []tmpMode{tmpNamed, tmpAnon, tmpAnonProc} {
		t.Run(tmpModeNames[m], func(t *testing.T) {
			requireMode(t, m)
			f(t, m)
		})
	}
}

// requireMode skips t when temp files cannot be made in mode here.
func requireMode(t *testing.T, m tmpMode) {
	t.Helper()
	if m == tmpNamed {
		return
	}
	if w := openW(t, newMaildir(t), Options{}); w.tmpMode == tmpNamed {
		t.Skip("the file system of the test directory cannot link O_TMPFILE files (Open fell back to named temp files): unnamed temp files not tested here")
	}
	if _, err := os.Stat("/proc/self/fd"); m == tmpAnonProc && err != nil {
		t.Skipf("no /proc/self/fd (%v): linking through /proc not tested", err)
	}
}

// openWMode is openW with temp files made in mode (see requireMode).
func openWMode(t testing.TB, dir string, opt Options, mode tmpMode) *Writer {
	t.Helper()
	w := openW(t, dir, opt)
	w.tmpMode = mode
	return w
}

// pending is how many of n queued messages are seen in tmp/: none when temp files are
// unnamed.
func pending(w *Writer, n int) int {
	if w.tmpMode != tmpNamed {
		return 0
	}
	return n
}

// put writes content as one message in the given chunks.
func put(w *Writer, content string, key Key, mtime time.Time, subdir, flags string) error {
	tmp, err := w.Create()
	if err != nil {
		return err
	}
	if _, err := tmp.Write([]byte(content)); err != nil {
		return err
	}
	return tmp.Commit(key, mtime, mtime, subdir, flags)
}

func ls(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// wantEmpty fails unless tmp/, new/ and cur/ of dir hold exactly the given files.
func wantFiles(t testing.TB, dir string, tmp, nw, cur int) {
	t.Helper()
	for _, c := range []struct {
		sub string
		n   int
	}{{"tmp", tmp}, {"new", nw}, {"cur", cur}} {
		if got := ls(t, filepath.Join(dir, c.sub)); len(got) != c.n {
			t.Errorf("%s/: %d files %q, want %d", c.sub, len(got), got, c.n)
		}
	}
}

// vsizeRef counts the size with bare LFs as CRLF, the slow way.
func vsizeRef(s string) int64 {
	n := int64(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			n++
		}
	}
	return n
}

func TestWriterDelivers(t *testing.T) {
	forModes(t, testWriterDelivers)
}

func testWriterDelivers(t *testing.T, mode tmpMode) {
	dir := newMaildir(t)
	w := openWMode(t, dir, Options{Sync: SyncBatch}, mode)
	mt := time.Date(2001, 2, 3, 4, 5, 6, 700, time.UTC)
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	msgs := []struct {
		content, subdir, flags string
	}{
		{"Subject: a\n\nbody\n", "new", ""},
		{"Subject: b\r\n\r\nbody\r\n", "cur", "RS"},
		{"Subject: c\n\nno final newline", "cur", ""},
	}
	for i, m := range msgs {
		tmp, err := w.Create()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tmp.Write([]byte(m.content)); err != nil {
			t.Fatal(err)
		}
		if tmp.Size() != int64(len(m.content)) || tmp.VSize() != vsizeRef(m.content) {
			t.Errorf("msg %d: Size %d VSize %d, want %d %d", i, tmp.Size(), tmp.VSize(), len(m.content), vsizeRef(m.content))
		}
		if err := tmp.Commit(keyOf(m.content, 0), mt, at, m.subdir, m.flags); err != nil {
			t.Fatal(err)
		}
	}
	// nothing is visible before Flush
	wantFiles(t, dir, pending(w, 3), 0, 0)
	n, err := w.Flush()
	if err != nil || n != 3 {
		t.Fatalf("Flush = %d, %v", n, err)
	}
	wantFiles(t, dir, 0, 1, 2)
	for _, m := range msgs {
		name := Name(keyOf(m.content, 0), mt, int64(len(m.content)), vsizeRef(m.content))
		if m.subdir == "cur" {
			name += ":2," + m.flags
		}
		p := filepath.Join(dir, m.subdir, name)
		var st syscall.Stat_t // before reading, which may update atime (relatime)
		if err := syscall.Stat(p, &st); err != nil {
			t.Fatalf("message not delivered as %s: %v (have new %q cur %q)", p, err, ls(t, filepath.Join(dir, "new")), ls(t, filepath.Join(dir, "cur")))
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != m.content {
			t.Errorf("%s: content %q, want %q", p, data, m.content)
		}
		if st.Mode&0o7777 != 0o600 {
			t.Errorf("%s: mode %o, want 600", p, st.Mode&0o7777)
		}
		if got := time.Unix(st.Mtim.Unix()); !got.Equal(mt) {
			t.Errorf("%s: mtime %v, want %v", p, got, mt)
		}
		if got := time.Unix(st.Atim.Unix()); !got.Equal(at) {
			t.Errorf("%s: atime %v, want %v", p, got, at)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSizeAndVSize(t *testing.T) {
	dir := newMaildir(t)
	w := openW(t, dir, Options{Sync: SyncNone})
	mt := time.Unix(1700000000, 0)
	for i, c := range []string{
		"", "\n", "\r\n", "\r", "\n\n", "a\nb\n", "a\r\nb\r\n", "a\nb", "a\r\nb", "\r\r\n\n\r", "x\n\r\ny\r", strings.Repeat("line\n", 20000) + "tail",
	} {
		// whole, byte by byte, and in 7-byte chunks (CR and LF split across writes); the
		// last time with the line feeds counted by the caller (WriteCounted)
		for j, chunk := range []int{len(c) + 1, 1, 7, -7} {
			counted := chunk < 0
			chunk = max(chunk, -chunk)
			tmp, err := w.Create()
			if err != nil {
				t.Fatal(err)
			}
			for s := c; len(s) > 0; {
				n := min(chunk, len(s))
				if counted {
					_, err = tmp.WriteCounted([]byte(s[:n]), int64(strings.Count(s[:n], "\n")))
				} else {
					_, err = tmp.Write([]byte(s[:n]))
				}
				if err != nil {
					t.Fatal(err)
				}
				s = s[n:]
			}
			if tmp.Size() != int64(len(c)) || tmp.VSize() != vsizeRef(c) {
				t.Errorf("case %d chunk %d: S=%d W=%d, want S=%d W=%d", i, chunk, tmp.Size(), tmp.VSize(), len(c), vsizeRef(c))
			}
			key := keyOf(c, uint32(j))
			if err := tmp.Commit(key, mt, mt, "cur", "S"); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "cur", Name(key, mt, int64(len(c)), vsizeRef(c))+":2,S")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatalf("case %d chunk %d: %v", i, chunk, err)
			}
			if string(data) != c {
				t.Errorf("case %d chunk %d: content differs (%d bytes, want %d)", i, chunk, len(data), len(c))
			}
		}
	}
	// the W= of the name matches Dovecot's rule: the file converted to CRLF
	c := "a\nb\r\nc\n"
	if got, want := vsizeRef(c), int64(len(strings.ReplaceAll(strings.ReplaceAll(c, "\r\n", "\n"), "\n", "\r\n"))); got != want {
		t.Fatalf("vsizeRef self-check: %d != %d", got, want)
	}
}

func TestReopenHasMovedFiles(t *testing.T) {
	dir := newMaildir(t)
	mt := time.Unix(1600000000, 0)
	w := openW(t, dir, Options{})
	k1, k2, k3, dupe := keyOf("one", 0), keyOf("two", 0), keyOf("three", 0), keyOf("one", 1)
	if err := put(w, "one", k1, mt, "cur", "S"); err != nil {
		t.Fatal(err)
	}
	if err := put(w, "two", k2, mt, "new", ""); err != nil {
		t.Fatal(err)
	}
	if !w.Has(k1) || !w.Has(k2) {
		t.Error("Has is false for messages committed in this run")
	}
	if err := put(w, "one", k1, mt, "cur", "S"); !errors.Is(err, ErrExists) {
		t.Errorf("second commit of the same key: %v, want ErrExists", err)
	}
	if err := put(w, "one", dupe, mt, "cur", "S"); err != nil { // an identical duplicate, N=1
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wantFiles(t, dir, 0, 1, 2)
	// a mail client reads them: new/ → cur/ with flags, flags changed in cur/
	n1 := Name(k1, mt, 3, 3)
	n2 := Name(k2, mt, 3, 3)
	mv := func(from, to string) {
		if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
			t.Fatal(err)
		}
	}
	mv("cur/"+n1+":2,S", "cur/"+n1+":2,RST")
	mv("new/"+n2, "cur/"+n2+":2,S")
	// a foreign file is ignored
	if err := os.WriteFile(filepath.Join(dir, "cur", "1700000000.M1P2.host,S=3:2,S"), []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}

	w2 := openW(t, dir, Options{})
	for _, k := range []Key{k1, k2, dupe} {
		if !w2.Has(k) {
			t.Errorf("after re-open, Has(%v) = false", k)
		}
	}
	if w2.Has(k3) || w2.Has(keyOf("one", 2)) {
		t.Error("Has is true for a message never written")
	}
	if err := put(w2, "two", k2, mt, "new", ""); !errors.Is(err, ErrExists) {
		t.Errorf("commit of a moved message: %v, want ErrExists", err)
	}
	if err := put(w2, "three", k3, mt, "new", ""); err != nil {
		t.Fatal(err)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	wantFiles(t, dir, 0, 1, 4)
}

func TestMoveNeverReplaces(t *testing.T) {
	for _, c := range []struct {
		name     string
		mode     tmpMode
		fallback bool
	}{{"renameat2", tmpNamed, false}, {"link", tmpNamed, true}, {"unnamed", tmpAnon, false}, {"unnamed-via-proc", tmpAnonProc, false}} {
		t.Run(c.name, func(t *testing.T) {
			requireMode(t, c.mode)
			dir := newMaildir(t)
			w := openWMode(t, dir, Options{}, c.mode)
			if c.fallback {
				sys := realSys
				sys.renameat2 = func(int, string, int, string, uint) error { return unix.EINVAL }
				w.sys = &sys
			}
			mt := time.Unix(1700000000, 0)
			k := keyOf("mine", 0)
			if err := put(w, "mine", k, mt, "cur", "S"); err != nil {
				t.Fatal(err)
			}
			if err := put(w, "other message", keyOf("other message", 0), mt, "cur", ""); err != nil {
				t.Fatal(err)
			}
			// someone else takes the name before Flush
			taken := filepath.Join(dir, "cur", Name(k, mt, 4, 4)+":2,S")
			if err := os.WriteFile(taken, []byte("theirs"), 0o600); err != nil {
				t.Fatal(err)
			}
			n, err := w.Flush()
			if !errors.Is(err, ErrNameTaken) || errors.Is(err, ErrExists) || !strings.Contains(err.Error(), taken) || !strings.Contains(err.Error(), "already there") {
				t.Fatalf("Flush error %v: want ErrNameTaken naming %s", err, taken)
			}
			if n != 1 {
				t.Errorf("Flush delivered %d, want 1 (the other message)", n)
			}
			if data, _ := os.ReadFile(taken); string(data) != "theirs" {
				t.Errorf("the existing file was replaced: %q", data)
			}
			wantFiles(t, dir, 0, 0, 2)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLinkFallbackRemembered(t *testing.T) {
	dir := newMaildir(t)
	w := openWMode(t, dir, Options{}, tmpNamed)
	sys := realSys
	renames := 0
	sys.renameat2 = func(int, string, int, string, uint) error { renames++; return unix.EINVAL }
	w.sys = &sys
	mt := time.Unix(1700000000, 0)
	for i := range 5 {
		c := strings.Repeat("x", i)
		if err := put(w, c, keyOf(c, 0), mt, "new", ""); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := w.Flush(); n != 5 || err != nil {
		t.Fatalf("Flush = %d, %v", n, err)
	}
	if renames != 1 {
		t.Errorf("renameat2 tried %d times, want once", renames)
	}
	wantFiles(t, dir, 0, 5, 0)
}

func TestAbortLeavesNothing(t *testing.T) {
	forModes(t, testAbortLeavesNothing)
}

func testAbortLeavesNothing(t *testing.T, mode tmpMode) {
	dir := newMaildir(t)
	w := openWMode(t, dir, Options{}, mode)
	mt := time.Unix(1700000000, 0)
	if err := put(w, "delivered", keyOf("delivered", 0), mt, "cur", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"queued 1", "queued 2"} {
		if err := put(w, c, keyOf(c, 0), mt, "new", ""); err != nil {
			t.Fatal(err)
		}
	}
	open, err := w.Create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open.Write(bytes.Repeat([]byte("partial "), 20000)); err != nil {
		t.Fatal(err)
	}
	wantFiles(t, dir, pending(w, 3), 0, 1)
	w.Abort()
	wantFiles(t, dir, 0, 0, 1)
	if _, err := open.Write([]byte("more")); err == nil {
		t.Error("Write after Abort succeeded")
	}
	if err := open.Commit(keyOf("p", 0), mt, mt, "cur", ""); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	w.Abort() // idempotent
	if err := w.Close(); err != nil {
		t.Errorf("Close after Abort: %v", err)
	}
	// a temp aborted by itself
	w2 := openWMode(t, dir, Options{}, mode)
	tmp, err := w2.Create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	wantFiles(t, dir, 0, 0, 1)
}

func TestCloseRemovesUncommitted(t *testing.T) {
	forModes(t, testCloseRemovesUncommitted)
}

// A closed writer makes no more temp files, and says why.
func TestCreateAfterClose(t *testing.T) {
	dir := newMaildir(t)
	w := openW(t, dir, Options{})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Create(); err == nil || !strings.Contains(err.Error(), "already closed") || !strings.Contains(err.Error(), dir) {
		t.Errorf("Create after Close: %v, want an error naming %s that says it is closed", err, dir)
	}
	wantFiles(t, dir, 0, 0, 0)
}

func testCloseRemovesUncommitted(t *testing.T, mode tmpMode) {
	dir := newMaildir(t)
	w := openWMode(t, dir, Options{}, mode)
	if _, err := w.Create(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "neither committed nor aborted") {
		t.Errorf("Close with an open temp: %v", err)
	}
	wantFiles(t, dir, 0, 0, 0)
}

func TestBatchLimits(t *testing.T) {
	forModes(t, testBatchLimits)
}

func testBatchLimits(t *testing.T, mode tmpMode) {
	mt := time.Unix(1700000000, 0)
	t.Run("files", func(t *testing.T) {
		dir := newMaildir(t)
		w := openWMode(t, dir, Options{BatchFiles: 2}, mode)
		for i, c := range []string{"a", "b", "c"} {
			if err := put(w, c, keyOf(c, 0), mt, "cur", ""); err != nil {
				t.Fatal(err)
			}
			visible := []int{0, 2, 2}[i]
			wantFiles(t, dir, pending(w, i+1-visible), 0, visible)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		wantFiles(t, dir, 0, 0, 3)
	})
	t.Run("bytes", func(t *testing.T) {
		dir := newMaildir(t)
		w := openWMode(t, dir, Options{BatchBytes: 10}, mode)
		if err := put(w, "12345", keyOf("12345", 0), mt, "cur", ""); err != nil {
			t.Fatal(err)
		}
		wantFiles(t, dir, pending(w, 1), 0, 0)
		if err := put(w, "67890", keyOf("67890", 0), mt, "cur", ""); err != nil {
			t.Fatal(err)
		}
		wantFiles(t, dir, 0, 0, 2)
	})
}

func TestCommitRejectsBadArguments(t *testing.T) {
	dir := newMaildir(t)
	w := openW(t, dir, Options{})
	mt := time.Unix(1700000000, 0)
	for _, c := range []struct{ subdir, flags string }{{"new", "S"}, {"tmp", ""}, {"cur", "S/"}, {"cur", ":2,S"}} {
		if err := put(w, "m", keyOf("m", 0), mt, c.subdir, c.flags); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "tmp")) {
			t.Errorf("Commit(%q, %q): %v, want an error naming the temp file", c.subdir, c.flags, err)
		}
	}
	if w.Has(keyOf("m", 0)) {
		t.Error("a rejected message is remembered")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wantFiles(t, dir, 0, 0, 0)
}

func TestOpenErrors(t *testing.T) {
	base := t.TempDir()
	if _, err := Open(filepath.Join(base, "none"), Options{UID: -1, GID: -1}); err == nil || !strings.Contains(err.Error(), filepath.Join(base, "none", "tmp")) {
		t.Errorf("Open of a missing maildir: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(base, "half", "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(base, "half"), Options{UID: -1, GID: -1}); err == nil || !strings.Contains(err.Error(), filepath.Join(base, "half", "new")) {
		t.Errorf("Open without new/: %v", err)
	}
}

// opLog wraps the real system calls and records them.
func opLog(w *Writer) *[]string {
	var log []string
	sys := realSys
	sys.openat = func(dirfd int, path string, flags int, mode uint32) (int, error) {
		log = append(log, "openat")
		return realSys.openat(dirfd, path, flags, mode)
	}
	sys.write = func(fd int, p []byte) (int, error) { log = append(log, "write"); return realSys.write(fd, p) }
	sys.futimens = func(fd int, ts *[2]unix.Timespec) error {
		log = append(log, "futimens")
		return realSys.futimens(fd, ts)
	}
	sys.fsync = func(fd int) error {
		name := "fsync"
		if fd == w.tmpfd || fd == w.newfd || fd == w.curfd {
			name = "fsyncdir"
		}
		log = append(log, name)
		return realSys.fsync(fd)
	}
	sys.close = func(fd int) error { log = append(log, "close"); return realSys.close(fd) }
	sys.syncfs = func(fd int) error { log = append(log, "syncfs"); return realSys.syncfs(fd) }
	sys.renameat2 = func(a int, b string, c int, d string, f uint) error {
		log = append(log, "rename")
		return realSys.renameat2(a, b, c, d, f)
	}
	sys.flink = func(fd, dirfd int, path string, viaProc bool) error {
		log = append(log, "link")
		return realSys.flink(fd, dirfd, path, viaProc)
	}
	sys.unlinkat = func(dirfd int, path string, flags int) error {
		log = append(log, "unlink")
		return realSys.unlinkat(dirfd, path, flags)
	}
	w.sys = &sys
	return &log
}

func TestSyscallsPerMessage(t *testing.T) {
	forModes(t, testSyscallsPerMessage)
}

func testSyscallsPerMessage(t *testing.T, mode tmpMode) {
	named := mode == tmpNamed
	dir := newMaildir(t)
	w := openWMode(t, dir, Options{Sync: SyncBatch}, mode)
	log := opLog(w)
	mt := time.Unix(1700000000, 0)
	body := bytes.Repeat([]byte("0123456789abcde\n"), 256) // 4 KiB
	for i := range 3 {
		tmp, err := w.Create()
		if err != nil {
			t.Fatal(err)
		}
		// a whole message, as the converter hands it over: one write(2), no copy
		if _, err := tmp.Write(append([]byte("Subject: x\n\n"), body...)); err != nil {
			t.Fatal(err)
		}
		if err := tmp.Commit(keyOf("m", uint32(i)), mt, mt, "cur", "S"); err != nil {
			t.Fatal(err)
		}
	}
	// a named temp file is closed at Commit; an unnamed one stays open until it is linked
	perMsg := []string{"openat", "write", "futimens"}
	if named {
		perMsg = append(perMsg, "close")
	}
	if want := slices.Repeat(perMsg, 3); !slices.Equal(*log, want) {
		t.Errorf("system calls for 3 messages: %q, want %q", *log, want)
	}
	*log = nil
	if _, err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// durable, then visible: one syncfs before any rename or link, then the directories
	// (tmp/ too when it changed)
	want := []string{"syncfs", "rename", "rename", "rename", "fsyncdir", "fsyncdir"}
	if !named {
		want = []string{"syncfs", "link", "close", "link", "close", "link", "close", "fsyncdir"}
	}
	if !slices.Equal(*log, want) {
		t.Errorf("system calls of Flush: %q, want %q", *log, want)
	}
	wantFiles(t, dir, 0, 0, 3)

	// SyncEach: fsync per file before it is closed or linked, no syncfs
	w2 := openWMode(t, newMaildir(t), Options{Sync: SyncEach}, mode)
	log = opLog(w2)
	if err := put(w2, "m", keyOf("m", 0), mt, "new", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Flush(); err != nil {
		t.Fatal(err)
	}
	want = []string{"openat", "write", "futimens", "fsync", "close", "rename", "fsyncdir", "fsyncdir"}
	if !named {
		want = []string{"openat", "write", "futimens", "fsync", "link", "close", "fsyncdir"}
	}
	if !slices.Equal(*log, want) {
		t.Errorf("SyncEach system calls: %q, want %q", *log, want)
	}
}

// TestInjectedEIO makes each step of the write path fail with EIO: the error names the path and
// says what to do, and nothing is left in tmp/, new/ or cur/.
func TestInjectedEIO(t *testing.T) {
	forModes(t, testInjectedEIO)
}

func testInjectedEIO(t *testing.T, mode tmpMode) {
	small := "Subject: small\n\nbody\n"
	large := strings.Repeat("large body line\n", 10000)
	cases := []struct {
		name    string
		sync    SyncMode
		content string
		inject  func(*sysOps)
		op      string
	}{
		{"write of a small message", SyncBatch, small, func(s *sysOps) {
			s.write = func(int, []byte) (int, error) { return 0, unix.EIO }
		}, "write"},
		{"write in Write", SyncBatch, large, func(s *sysOps) {
			s.write = func(int, []byte) (int, error) { return 0, unix.EIO }
		}, "write"},
		{"short write then EIO", SyncBatch, large, func(s *sysOps) {
			n := 0
			s.write = func(fd int, p []byte) (int, error) {
				if n++; n == 1 {
					return realSys.write(fd, p[:len(p)/2])
				}
				return 0, unix.EIO
			}
		}, "write"},
		{"utimensat", SyncBatch, small, func(s *sysOps) {
			s.futimens = func(int, *[2]unix.Timespec) error { return unix.EIO }
		}, "set the times of"},
		{"fsync", SyncEach, small, func(s *sysOps) {
			s.fsync = func(int) error { return unix.EIO }
		}, "sync"},
		{"close", SyncBatch, small, func(s *sysOps) {
			s.close = func(fd int) error { _ = realSys.close(fd); return unix.EIO }
		}, "close"},
		{"syncfs", SyncBatch, small, func(s *sysOps) {
			s.syncfs = func(int) error { return unix.EIO }
		}, "sync the file system of"},
		{"rename", SyncBatch, small, func(s *sysOps) {
			s.renameat2 = func(int, string, int, string, uint) error { return unix.EIO }
		}, "rename"},
		{"link", SyncBatch, small, func(s *sysOps) {
			s.flink = func(int, int, string, bool) error { return unix.EIO }
		}, "link"},
		{"create", SyncBatch, small, func(s *sysOps) {
			s.openat = func(int, string, int, uint32) (int, error) { return -1, unix.EIO }
		}, "create temp file"},
		{"fsync without syncfs", SyncBatch, small, func(s *sysOps) {
			s.syncfs = func(int) error { return unix.ENOSYS }
			s.fsync = func(int) error { return unix.EIO }
		}, "sync"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			named := mode == tmpNamed
			switch {
			case c.op == "close" && !named:
				t.Skip("an unnamed temp file is closed only after it is linked, once durable")
			case c.op == "rename" && !named, c.op == "link" && named:
				t.Skip("not a system call of this mode")
			}
			dir := newMaildir(t)
			w := openWMode(t, dir, Options{Sync: c.sync}, mode)
			sys := realSys
			c.inject(&sys)
			w.sys = &sys
			k := keyOf(c.content, 0)
			err := put(w, c.content, k, time.Unix(1700000000, 0), "cur", "S")
			if err == nil {
				_, err = w.Flush()
			}
			if !errors.Is(err, syscall.EIO) {
				t.Fatalf("error %v, want EIO", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, c.op+" "+dir+"/tmp") || !strings.Contains(msg, "input/output error") ||
				!strings.Contains(msg, "check the disk") || !strings.Contains(msg, "will be skipped") {
				t.Errorf("error %q: want %q, the temp path, the cause and what to do", msg, c.op)
			}
			if w.Has(k) {
				t.Error("Has is true for a message that was not delivered")
			}
			wantFiles(t, dir, 0, 0, 0)
			// the writer is still usable after a failed message
			w.sys = &realSys
			if err := put(w, "after", keyOf("after", 0), time.Unix(1, 0), "cur", ""); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			wantFiles(t, dir, 0, 0, 1)
		})
	}
}

// TestDirSyncError: a failing directory fsync after the renames is reported (the messages are
// visible but maybe not durable).
func TestDirSyncError(t *testing.T) {
	dir := newMaildir(t)
	w := openW(t, dir, Options{})
	sys := realSys
	sys.fsync = func(int) error { return unix.EIO }
	w.sys = &sys
	if err := put(w, "m", keyOf("m", 0), time.Unix(1, 0), "cur", ""); err != nil {
		t.Fatal(err)
	}
	n, err := w.Flush()
	if n != 1 || !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "sync directory "+dir+"/cur") {
		t.Errorf("Flush = %d, %v", n, err)
	}
}

func TestChown(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	dir := newMaildir(t)
	w, err := Open(dir, Options{UID: 65534, GID: 65534})
	if err != nil {
		t.Fatal(err)
	}
	if err := put(w, "m", keyOf("m", 0), time.Unix(1, 0), "new", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dir, "new", Name(keyOf("m", 0), time.Unix(1, 0), 1, 1)), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 65534 || st.Gid != 65534 {
		t.Errorf("owner %d:%d, want 65534:65534", st.Uid, st.Gid)
	}
	sub := filepath.Join(filepath.Dir(dir), ".owned")
	if err := EnsureOwned(sub, true, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", "tmp", "new", "cur", "maildirfolder"} {
		if err := syscall.Stat(filepath.Join(sub, p), &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != 65534 || st.Gid != 65534 {
			t.Errorf("%s: owner %d:%d, want 65534:65534", p, st.Uid, st.Gid)
		}
	}
}

// Claim finds the files that were in the folder when the writer was opened (wherever they
// are and whatever their flags) until one is held, and gives every other key to one message
// only; Has knows the found and the committed keys; a key committed twice, or one found, is
// refused.
func TestClaimAndHas(t *testing.T) {
	dir := newMaildir(t)
	w := openW(t, dir, Options{})
	old := keyOf("old", 0)
	if err := put(w, "old", old, time.Unix(1, 0), "new", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// the user reads it: Dovecot moves it to cur/ with flags
	ents, _ := os.ReadDir(filepath.Join(dir, "new"))
	moved := filepath.Join(dir, "cur", ents[0].Name()+":2,S")
	if err := os.Rename(filepath.Join(dir, "new", ents[0].Name()), moved); err != nil {
		t.Fatal(err)
	}
	w = openW(t, dir, Options{})
	if p, st := w.Claim(old); st != Found || p != moved {
		t.Fatalf("Claim(old) = %q, %v; want %q, Found", p, st, moved)
	}
	if _, st := w.Claim(old); st != Found {
		t.Fatalf("Claim(old) again = %v; want Found until it is held", st)
	}
	w.Hold(old)
	if _, st := w.Claim(old); st != Taken {
		t.Fatalf("Claim(old) after Hold = %v; want Taken", st)
	}
	fresh := keyOf("fresh", 0)
	if _, st := w.Claim(fresh); st != Claimed {
		t.Fatalf("Claim(fresh) = %v; want Claimed", st)
	}
	if w.Has(fresh) {
		t.Error("Has(fresh) before its commit")
	}
	if err := put(w, "fresh", fresh, time.Unix(2, 0), "cur", ""); err != nil {
		t.Fatal(err)
	}
	if _, st := w.Claim(fresh); st != Taken {
		t.Errorf("Claim(fresh) after its commit = %v; want Taken", st)
	}
	if !w.Has(fresh) || !w.Has(old) || w.Has(keyOf("never", 0)) {
		t.Errorf("Has: fresh %v old %v never %v", w.Has(fresh), w.Has(old), w.Has(keyOf("never", 0)))
	}
	for _, k := range []Key{fresh, old} {
		if err := put(w, "again", k, time.Unix(3, 0), "cur", ""); !errors.Is(err, ErrExists) {
			t.Errorf("second commit of %v: %v, want ErrExists", k, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wantFiles(t, dir, 0, 0, 2)
}

// The writer sees the folder as the dry run does (ScanKeys) and as Dovecot does: a file
// whose name starts with "." is not a message, even with a key in its name.
func TestOpenSkipsHiddenFiles(t *testing.T) {
	dir := newMaildir(t)
	k := keyOf("m", 0)
	hidden := filepath.Join(dir, "cur", "."+Name(k, time.Unix(1, 0), 1, 2)+":2,S")
	if err := os.WriteFile(hidden, []byte("m"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := ScanKeys(dir)
	if err != nil || len(keys) != 0 {
		t.Fatalf("ScanKeys = %v, %v; want no keys", keys, err)
	}
	w := openW(t, dir, Options{})
	if _, st := w.Claim(k); st != Claimed {
		t.Errorf("Claim of the hidden file's key = %v, want Claimed (no message has it)", st)
	}
	w.Abort()
}

// Open picks unnamed temp files where they can be linked, through /proc when AT_EMPTY_PATH is
// refused (Linux < 6.10 without CAP_DAC_READ_SEARCH), and named ones otherwise; the probe
// leaves nothing in tmp/.
func TestProbeTmpMode(t *testing.T) {
	requireMode(t, tmpAnon)
	dir := newMaildir(t)
	w := openW(t, dir, Options{BatchFiles: 1000})
	probed := w.tmpMode
	if probed != tmpAnon && probed != tmpAnonProc {
		t.Fatalf("probed mode %s, want unnamed", tmpModeNames[probed])
	}
	if w.opt.BatchFiles != maxQueuedAnon {
		t.Errorf("BatchFiles %d with unnamed temp files, want at most %d (one open descriptor each)", w.opt.BatchFiles, maxQueuedAnon)
	}
	noTmpfile := func(s *sysOps) {
		s.openat = func(dirfd int, path string, flags int, mode uint32) (int, error) {
			if flags&unix.O_TMPFILE == unix.O_TMPFILE {
				return -1, unix.EOPNOTSUPP
			}
			return realSys.openat(dirfd, path, flags, mode)
		}
	}
	noEmptyPath := func(s *sysOps) {
		s.flink = func(fd, dirfd int, path string, viaProc bool) error {
			if !viaProc {
				return unix.ENOENT // what Linux < 6.10 answers without the capability
			}
			return realSys.flink(fd, dirfd, path, viaProc)
		}
	}
	noLink := func(s *sysOps) {
		s.flink = func(int, int, string, bool) error { return unix.ENOENT }
	}
	for _, c := range []struct {
		name   string
		inject []func(*sysOps)
		want   tmpMode
	}{
		{"all there", nil, probed}, // tmpAnonProc where AT_EMPTY_PATH needs a capability
		{"no O_TMPFILE", []func(*sysOps){noTmpfile}, tmpNamed},
		{"no AT_EMPTY_PATH", []func(*sysOps){noEmptyPath}, tmpAnonProc},
		{"no link at all", []func(*sysOps){noLink}, tmpNamed},
	} {
		t.Run(c.name, func(t *testing.T) {
			sys := realSys
			for _, f := range c.inject {
				f(&sys)
			}
			w.sys = &sys
			if got := w.probeTmpMode(); got != c.want {
				t.Errorf("probe = %s, want %s", tmpModeNames[got], tmpModeNames[c.want])
			}
			wantFiles(t, dir, 0, 0, 0)
		})
	}
}

// Temp.Open reads back what was written so far (a large message is compared with an existing
// file that way) without moving the write position.
func TestTempReadBack(t *testing.T) {
	forModes(t, func(t *testing.T, mode tmpMode) {
		dir := newMaildir(t)
		w := openWMode(t, dir, Options{}, mode)
		tmp, err := w.Create()
		if err != nil {
			t.Fatal(err)
		}
		first := strings.Repeat("first part\n", 5000)
		if _, err := tmp.Write([]byte(first)); err != nil {
			t.Fatal(err)
		}
		r, err := tmp.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || string(got) != first {
			t.Fatalf("read back %d bytes, %v; want the %d written", len(got), err, len(first))
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := tmp.Write([]byte("second part\n")); err != nil {
			t.Fatal(err)
		}
		mt := time.Unix(1700000000, 0)
		all := first + "second part\n"
		if err := tmp.Commit(keyOf(all, 0), mt, mt, "cur", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := tmp.Open(); err == nil {
			t.Error("Open after Commit succeeded")
		}
		// reading back needs a second descriptor (unnamed) or the file's path (named)
		sys := realSys
		sys.dup = func(int) (int, error) { return -1, unix.EMFILE }
		w.sys = &sys
		tmp2, err := w.Create()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tmp2.Open(); mode != tmpNamed && (err == nil || !strings.HasPrefix(err.Error(), "read back "+dir+"/tmp") ||
			!strings.Contains(err.Error(), "ulimit -n")) {
			t.Errorf("Open without a free descriptor: %v, want the temp file named and what to do", err)
		}
		w.sys = &realSys
		if err := tmp2.Abort(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "cur", Name(keyOf(all, 0), mt, int64(len(all)), vsizeRef(all))+":2,")
		if data, err := os.ReadFile(p); err != nil || string(data) != all {
			t.Errorf("delivered %d bytes, %v; want %d", len(data), err, len(all))
		}
	})
}

// The final names of a batch live in an array that a later batch reuses: every file of many
// batches still gets exactly its own name.
func TestNamesAcrossBatches(t *testing.T) {
	forModes(t, func(t *testing.T, mode tmpMode) {
		dir := newMaildir(t)
		w := openWMode(t, dir, Options{BatchFiles: 3}, mode)
		want := map[string]bool{}
		for i := range 20 {
			c := strings.Repeat("m", i+1) + "\n"
			mt := time.Unix(int64(1700000000+i), 0)
			flags := []string{"", "S", "RS", "FS"}[i%4]
			if err := put(w, c, keyOf(c, 0), mt, "cur", flags); err != nil {
				t.Fatal(err)
			}
			want[Name(keyOf(c, 0), mt, int64(len(c)), vsizeRef(c))+":2,"+flags] = true
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got := ls(t, filepath.Join(dir, "cur"))
		for _, n := range got {
			if !want[n] {
				t.Errorf("unexpected file cur/%s", n)
			}
			delete(want, n)
		}
		for n := range want {
			t.Errorf("missing cur/%s", n)
		}
	})
}

// A writer closed while Create is making its file (a caller's error: Close must come after
// every Temp) leaves no file behind either: Create removes the one it made.
func TestCreateRacingClose(t *testing.T) {
	forModes(t, func(t *testing.T, mode tmpMode) {
		dir := newMaildir(t)
		w := openWMode(t, dir, Options{}, mode)
		sys := realSys
		sys.openat = func(dirfd int, path string, flags int, perm uint32) (int, error) {
			fd, err := realSys.openat(dirfd, path, flags, perm)
			if cerr := w.Close(); cerr != nil {
				t.Error(cerr)
			}
			return fd, err
		}
		w.sys = &sys
		if _, err := w.Create(); err == nil || !strings.Contains(err.Error(), "already closed") {
			t.Errorf("Create with a Close in between: %v, want an error saying the writer is closed", err)
		}
		wantFiles(t, dir, 0, 0, 0)
	})
}
