package maildir

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	efbigEnv     = "MB2MD_MAILDIR_EFBIG_DIR"
	efbigModeEnv = "MB2MD_MAILDIR_EFBIG_MODE"
)

// TestEFBIG runs the writer in a child process with a file size limit (RLIMIT_FSIZE): the
// large message fails with EFBIG and leaves nothing behind; the small one is delivered.
func TestEFBIG(t *testing.T) {
	forModes(t, testEFBIG)
}

func testEFBIG(t *testing.T, mode tmpMode) {
	dir := newMaildir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestEFBIGChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), efbigEnv+"="+dir, efbigModeEnv+"="+strconv.Itoa(int(mode)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestEFBIGChild") {
		t.Fatalf("child did not run:\n%s", out)
	}
	wantFiles(t, dir, 0, 0, 1)
}

func TestEFBIGChild(t *testing.T) {
	dir := os.Getenv(efbigEnv)
	if dir == "" {
		t.Skip("helper process of TestEFBIG")
	}
	signal.Ignore(syscall.SIGXFSZ)
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: 8192, Max: 8192}); err != nil {
		t.Fatal(err)
	}
	w, err := Open(dir, Options{UID: -1, GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	mode, err := strconv.Atoi(os.Getenv(efbigModeEnv))
	if err != nil {
		t.Fatal(err)
	}
	w.tmpMode = tmpMode(mode)
	mt := time.Unix(1700000000, 0)
	if err := put(w, "small\n", keyOf("small\n", 0), mt, "cur", "S"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	tmp, err := w.Create()
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("0123456789\n"), 1000)
	for i := 0; i < 20 && err == nil; i++ {
		_, err = tmp.Write(chunk)
	}
	if err == nil {
		err = tmp.Commit(keyOf("big", 0), mt, mt, "cur", "")
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("error %v, want EFBIG", err)
	}
	if !strings.HasPrefix(err.Error(), "write "+filepath.Join(dir, "tmp")) || !strings.Contains(err.Error(), "ulimit -f") {
		t.Errorf("error %q does not name the temp file and the fix", err)
	}
	if err := tmp.Abort(); err != nil {
		t.Errorf("Abort after failure: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDiskFull writes into a 64 KiB tmpfs until ENOSPC.
func TestDiskFull(t *testing.T) {
	forModes(t, testDiskFull)
}

func testDiskFull(t *testing.T, mode tmpMode) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (mount -t tmpfs -o size=64k); not root, skipped")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s); skipped", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	dir := filepath.Join(mnt, "Maildir")
	if err := Ensure(dir, false); err != nil {
		t.Fatal(err)
	}
	w := openWMode(t, dir, Options{}, mode)
	mt := time.Unix(1700000000, 0)
	if err := put(w, "delivered\n", keyOf("delivered\n", 0), mt, "cur", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := put(w, "queued\n", keyOf("queued\n", 0), mt, "new", ""); err != nil {
		t.Fatal(err)
	}
	tmp, err := w.Create()
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("x"), 16<<10)
	for i := 0; i < 16 && err == nil; i++ {
		_, err = tmp.Write(chunk)
	}
	if err == nil {
		err = tmp.Commit(keyOf("big", 0), mt, mt, "cur", "")
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("error %v, want ENOSPC", err)
	}
	want := "no space left on device; free space on the destination file system and run again (messages already delivered are kept and will be skipped)"
	if !strings.HasPrefix(err.Error(), "write "+filepath.Join(dir, "tmp")) || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %q, want \"write %s/tmp…: %s\"", err, dir, want)
	}
	wantFiles(t, dir, pending(w, 1), 0, 1) // the queued message only
	w.Abort()
	wantFiles(t, dir, 0, 0, 1)
}

// BenchmarkDeliver4K writes 4 KiB messages into /dev/shm; run with -benchtime=10000x for the
// 10k-message figure. One op is one message, Close included.
func BenchmarkDeliver4K(b *testing.B) {
	if st, err := os.Stat("/dev/shm"); err != nil || !st.IsDir() {
		b.Skip("no /dev/shm")
	}
	body := bytes.Repeat([]byte("0123456789abcde\n"), 256)
	for _, mode := range []SyncMode{SyncBatch, SyncNone} {
		b.Run(mode.String(), func(b *testing.B) {
			base, err := os.MkdirTemp("/dev/shm", "maildir-bench")
			if err != nil {
				b.Fatal(err)
			}
			defer os.RemoveAll(base)
			dir := filepath.Join(base, "Maildir")
			if err := Ensure(dir, false); err != nil {
				b.Fatal(err)
			}
			w, err := Open(dir, Options{Sync: mode, UID: -1, GID: -1})
			if err != nil {
				b.Fatal(err)
			}
			mt := time.Unix(1700000000, 0)
			var seq [8]byte
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				binary.BigEndian.PutUint64(seq[:], uint64(i))
				var k Key
				sum := sha256.Sum256(seq[:])
				copy(k.Hash[:], sum[:])
				tmp, err := w.Create()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tmp.Write(body); err != nil {
					b.Fatal(err)
				}
				if err := tmp.Commit(k, mt, mt, "cur", "S"); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
			if n := len(ls(b, filepath.Join(dir, "cur"))); n != b.N {
				b.Fatalf("%d files delivered, want %d", n, b.N)
			}
		})
	}
}

// BenchmarkOpen100k measures the key scan of Open over 100,000 delivered messages (memory per
// op is what the Writer keeps for them, plus the transient directory reading).
func BenchmarkOpen100k(b *testing.B) {
	if st, err := os.Stat("/dev/shm"); err != nil || !st.IsDir() {
		b.Skip("no /dev/shm")
	}
	base, err := os.MkdirTemp("/dev/shm", "maildir-bench")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(base)
	dir := filepath.Join(base, "Maildir")
	if err := Ensure(dir, false); err != nil {
		b.Fatal(err)
	}
	var seq [8]byte
	for i := range 100000 {
		binary.BigEndian.PutUint64(seq[:], uint64(i))
		var k Key
		sum := sha256.Sum256(seq[:])
		copy(k.Hash[:], sum[:])
		f, err := os.Create(filepath.Join(dir, "cur", Name(k, time.Unix(1700000000, 0), 4096, 4352)+":2,S"))
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, err := Open(dir, Options{UID: -1, GID: -1})
		if err != nil {
			b.Fatal(err)
		}
		if len(w.found) != 100000 {
			b.Fatalf("%d keys, want 100000", len(w.found))
		}
		w.Abort()
	}
	b.StopTimer() // not the removal of the files
}
