//go:build linux

package spoollock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary doubles as a lock holder when SPOOLLOCK_HELPER is set: it takes the locks the
// way Postfix local does (dotlock with O_EXCL holding its pid, then a classic fcntl write lock),
// prints "ready", and releases everything when its stdin is closed.
func TestMain(m *testing.M) {
	switch mode := os.Getenv("SPOOLLOCK_HELPER"); mode {
	case "":
		os.Exit(m.Run())
	case "lock":
		os.Exit(helperHold(os.Getenv("SPOOLLOCK_PATH"), os.Getenv("SPOOLLOCK_DOT") == "1", os.Getenv("SPOOLLOCK_FCNTL") == "1"))
	case "try":
		os.Exit(helperTry(os.Getenv("SPOOLLOCK_PATH")))
	default:
		fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
		os.Exit(2)
	}
}

func helperHold(path string, dot, fc bool) int {
	if dot {
		f, err := os.OpenFile(path+".lock", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		fmt.Fprintf(f, "%d\n", os.Getpid())
		f.Close()
		defer os.Remove(path + ".lock")
	}
	if fc {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		defer f.Close()
		lk := unix.Flock_t{Type: unix.F_WRLCK}
		if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
			fmt.Println("error", err)
			return 1
		}
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// helperTry tries Lock once and prints the outcome (used as another uid).
func helperTry(path string) int {
	l, err := Lock(context.Background(), path, Options{Dotlock: true, Fcntl: true})
	if err != nil {
		fmt.Println("error", err)
		return 0
	}
	fmt.Printf("ok lockpath=%q warning=%q\n", l.LockPath(), l.Warning())
	if err := l.Unlock(); err != nil {
		fmt.Println("unlock error", err)
	}
	return 0
}

type holder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// hold starts a helper process holding the chosen locks on path.
func hold(t *testing.T, path string, dot, fc bool) *holder {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "SPOOLLOCK_HELPER=lock", "SPOOLLOCK_PATH="+path,
		"SPOOLLOCK_DOT="+b01(dot), "SPOOLLOCK_FCNTL="+b01(fc))
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		in.Close()
		cmd.Wait()
		t.Fatalf("helper did not get the lock: %q", line)
	}
	h := &holder{cmd: cmd, stdin: in}
	t.Cleanup(h.release)
	return h
}

func (h *holder) release() {
	if h.stdin != nil {
		h.stdin.Close()
		h.cmd.Wait()
		h.stdin = nil
	}
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// fakeClock advances only when Wait is called.
type fakeClock struct {
	t      time.Time
	waits  int
	onWait func(now time.Time)
}

func newClock(offset time.Duration) *fakeClock { return &fakeClock{t: time.Now().Add(offset)} }
func (c *fakeClock) Now() time.Time            { return c.t }
func (c *fakeClock) Wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.waits++
	c.t = c.t.Add(d)
	if c.onWait != nil {
		c.onWait(c.t)
	}
	return ctx.Err()
}

func (c *fakeClock) opts(timeout time.Duration, dot, fc bool) Options {
	return Options{Timeout: timeout, Retry: 100 * time.Millisecond, Dotlock: dot, Fcntl: fc, Now: c.Now, Wait: c.Wait}
}

func newSpool(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "alice")
	if err := os.WriteFile(p, []byte("From a@b Mon Jan  1 00:00:00 2024\n\nhi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// dirNames lists a directory, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func wantOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	sort.Strings(names)
	if got := dirNames(t, dir); strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

func TestLockUnlock(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dot, fc bool
	}{{"both", true, true}, {"dotlock", true, false}, {"fcntl", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			p := newSpool(t)
			c := newClock(0)
			l, err := Lock(context.Background(), p, c.opts(0, tc.dot, tc.fc))
			if err != nil {
				t.Fatal(err)
			}
			if l.Warning() != "" {
				t.Errorf("warning %q", l.Warning())
			}
			if tc.dot {
				if l.LockPath() != p+".lock" {
					t.Errorf("LockPath %q", l.LockPath())
				}
				b, err := os.ReadFile(p + ".lock")
				if err != nil {
					t.Fatal(err)
				}
				host, _ := os.Hostname()
				if want := fmt.Sprintf("%d:%s\n", os.Getpid(), host); string(b) != want {
					t.Errorf("lock content %q, want %q", b, want)
				}
				wantOnly(t, filepath.Dir(p), "alice", "alice.lock")
			} else {
				wantOnly(t, filepath.Dir(p), "alice")
			}
			if tc.fc {
				if l.File() == nil {
					t.Fatal("File() is nil")
				}
				b, err := io.ReadAll(l.File())
				if err != nil || !strings.HasPrefix(string(b), "From a@b") {
					t.Errorf("read through File: %q %v", b, err)
				}
			} else if l.File() != nil {
				t.Error("File() not nil without fcntl")
			}
			if err := l.Unlock(); err != nil {
				t.Fatal(err)
			}
			if err := l.Unlock(); err != nil {
				t.Errorf("second Unlock: %v", err)
			}
			wantOnly(t, filepath.Dir(p), "alice")
			if err := l.Touch(); err == nil {
				t.Error("Touch after Unlock succeeded")
			}
		})
	}
}

func TestLockErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "real"), nil, 0o600)
	os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "link"))
	os.Mkdir(filepath.Join(dir, "adir"), 0o700)
	unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600)
	for _, tc := range []struct {
		name, file string
		opt        Options
		want       string
		is         error
	}{
		{"missing", "nope", Options{Dotlock: true, Fcntl: true}, "nope", fs.ErrNotExist},
		{"missing dotlock only", "nope", Options{Dotlock: true}, "nope", fs.ErrNotExist},
		{"symlink", "link", Options{Dotlock: true, Fcntl: true}, "symbolic link", nil},
		{"directory", "adir", Options{Fcntl: true}, "not a regular file", nil},
		{"fifo", "fifo", Options{Fcntl: true}, "not a regular file", nil},
		{"no method", "real", Options{}, "no lock method", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Lock(context.Background(), filepath.Join(dir, tc.file), tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), filepath.Join(dir, tc.file)) {
				t.Errorf("err %q does not name the path", err)
			}
		})
	}
	wantOnly(t, dir, "adir", "fifo", "link", "real")
}

// TestHeldByOtherProcess: another process holds the locks as Postfix does; Lock must time out
// with ErrLocked naming the lock and the holder, and succeed once the holder lets go.
func TestHeldByOtherProcess(t *testing.T) {
	for _, tc := range []struct {
		name            string
		holdDot, holdFc bool
		wantIn          string
	}{
		{"dotlock and fcntl", true, true, ".lock held by pid"},
		{"dotlock only", true, false, ".lock held by pid"},
		{"fcntl only", false, true, "an fcntl lock on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newSpool(t)
			h := hold(t, p, tc.holdDot, tc.holdFc)
			c := newClock(0)
			_, err := Lock(context.Background(), p, c.opts(10*time.Second, true, true))
			if !errors.Is(err, ErrLocked) {
				t.Fatalf("err = %v, want ErrLocked", err)
			}
			for _, s := range []string{p, tc.wantIn, strconv.Itoa(h.cmd.Process.Pid), "after 10s"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if c.waits < 2 {
				t.Errorf("only %d waits before giving up", c.waits)
			}
			// nothing of ours left; the holder's lock untouched
			if tc.holdDot {
				wantOnly(t, filepath.Dir(p), "alice", "alice.lock")
			} else {
				wantOnly(t, filepath.Dir(p), "alice")
			}
			h.release()
			l, err := Lock(context.Background(), p, c.opts(0, true, true))
			if err != nil {
				t.Fatalf("after release: %v", err)
			}
			// while we hold it, a delivery agent cannot take the fcntl write lock
			f, _ := os.OpenFile(p, os.O_RDWR, 0)
			defer f.Close()
			lk := unix.Flock_t{Type: unix.F_WRLCK}
			if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err == nil {
				t.Error("a writer got the fcntl lock while we hold the read lock")
			}
			if err := l.Unlock(); err != nil {
				t.Fatal(err)
			}
			if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
				t.Errorf("writer still blocked after Unlock: %v", err)
			}
			wantOnly(t, filepath.Dir(p), "alice")
		})
	}
}

// TestLiveHolderNeverStale: a lock whose pid runs on this host is never broken, however old.
func TestLiveHolderNeverStale(t *testing.T) {
	p := newSpool(t)
	hold(t, p, true, false)
	c := newClock(24 * time.Hour)
	_, err := Lock(context.Background(), p, c.opts(time.Hour, true, false))
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
}

func TestCancelLeavesNothing(t *testing.T) {
	p := newSpool(t)
	hold(t, p, false, true) // dotlock free, fcntl busy: we take and give back the dotlock each try
	ctx, cancel := context.WithCancel(context.Background())
	c := newClock(0)
	c.onWait = func(time.Time) {
		if c.waits == 3 {
			cancel()
		}
	}
	_, err := Lock(ctx, p, c.opts(time.Hour, true, true))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	wantOnly(t, filepath.Dir(p), "alice")

	_, err = Lock(ctx, p, c.opts(time.Hour, true, true))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: err = %v", err)
	}
	wantOnly(t, filepath.Dir(p), "alice")
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if err := unix.Kill(pid, 0); !errors.Is(err, unix.ESRCH) {
		t.Skipf("pid %d was reused", pid)
	}
	return pid
}

func TestStale(t *testing.T) {
	host, _ := os.Hostname()
	dead := deadPID(t)
	type tc struct {
		name      string
		content   string
		age       time.Duration // how old the lock's mtime is made
		offset    time.Duration // where the fake clock starts, from real now
		timeout   time.Duration
		appendAt  time.Duration // append to the spool when the fake clock passes offset+appendAt (0: never)
		wantTaken bool
	}
	for _, c := range []tc{
		{name: "dead pid broken at once", content: fmt.Sprintf("%d\n", dead), age: time.Minute, wantTaken: true},
		{name: "dead pid:ourhost broken", content: fmt.Sprintf("%d:%s", dead, host), age: time.Minute, wantTaken: true},
		{name: "dead pid but brand new lock waits", content: fmt.Sprintf("%d\n", dead), timeout: time.Second},
		{name: "dead pid on another host is not ours to judge", content: fmt.Sprintf("%d:elsewhere.example", dead), age: time.Minute, timeout: time.Minute},
		{name: "no pid unchanged 10 min broken", content: "", offset: 10 * time.Minute, wantTaken: true},
		{name: "no pid unchanged 4 min kept", content: "", offset: 4 * time.Minute, timeout: 30 * time.Second},
		{name: "no pid becomes stale while waiting", content: "garbage", offset: 4 * time.Minute, timeout: 3 * time.Minute, wantTaken: true},
		{name: "spool keeps changing keeps the lock", content: "garbage", offset: 4 * time.Minute, timeout: 3 * time.Minute, appendAt: 30 * time.Second},
		{name: "other host unchanged broken by time", content: "123:elsewhere.example", offset: 10 * time.Minute, wantTaken: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newSpool(t)
			lp := p + ".lock"
			if err := os.WriteFile(lp, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if c.age > 0 {
				old := time.Now().Add(-c.age)
				os.Chtimes(lp, old, old)
				os.Chtimes(p, old, old)
			}
			clk := newClock(c.offset)
			start := clk.t
			appended := false
			clk.onWait = func(now time.Time) {
				if c.appendAt > 0 && now.Sub(start) >= c.appendAt && !appended || appended && now.Sub(start) >= c.appendAt*4 {
					f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
					f.WriteString("more\n")
					f.Close()
					os.Chtimes(p, now, now) // as if delivered at the fake now
					appended = true
					start = now
				}
			}
			l, err := Lock(context.Background(), p, clk.opts(c.timeout, true, true))
			if c.wantTaken {
				if err != nil {
					t.Fatalf("stale lock not broken: %v", err)
				}
				b, _ := os.ReadFile(lp)
				if !strings.HasPrefix(string(b), strconv.Itoa(os.Getpid())+":") {
					t.Errorf("lock file now holds %q, not our pid", b)
				}
				if w := l.Warning(); !strings.Contains(w, "removed stale dotlock "+lp) {
					t.Errorf("warning %q does not report the broken lock", w)
				}
				if err := l.Unlock(); err != nil {
					t.Fatal(err)
				}
				wantOnly(t, filepath.Dir(p), "alice")
				return
			}
			if !errors.Is(err, ErrLocked) {
				t.Fatalf("err = %v, want ErrLocked", err)
			}
			b, _ := os.ReadFile(lp)
			if string(b) != c.content {
				t.Errorf("foreign lock changed to %q", b)
			}
			wantOnly(t, filepath.Dir(p), "alice", "alice.lock")
		})
	}
}

// TestSpoolReplacedWhileWaiting: a writer renames a new mailbox over the spool while we wait;
// the lock must end up on the new file, and File must read it.
func TestSpoolReplacedWhileWaiting(t *testing.T) {
	p := newSpool(t)
	h := hold(t, p, true, false)
	c := newClock(0)
	c.onWait = func(time.Time) {
		if c.waits == 2 {
			tmp := p + ".new"
			os.WriteFile(tmp, []byte("From new@b Tue Jan  2 00:00:00 2024\n\nnew\n"), 0o600)
			if err := os.Rename(tmp, p); err != nil {
				t.Error(err)
			}
			h.release()
		}
	}
	l, err := Lock(context.Background(), p, c.opts(time.Minute, true, true))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	b, _ := io.ReadAll(l.File())
	if !strings.HasPrefix(string(b), "From new@b") {
		t.Errorf("File reads %q, the replaced spool", b)
	}
	// the lock is on the new inode: a writer on the new file is blocked
	f, _ := os.OpenFile(p, os.O_RDWR, 0)
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err == nil {
		t.Error("the new spool is not locked")
	}
}

func TestTouch(t *testing.T) {
	p := newSpool(t)
	clk := newClock(0)
	l, err := Lock(context.Background(), p, clk.opts(0, true, true))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p+".lock", old, old)
	mtime := func() time.Time {
		fi, err := os.Stat(p + ".lock")
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime()
	}
	if err := l.Touch(); err != nil { // within a second of locking: no-op
		t.Fatal(err)
	}
	if !mtime().Equal(old) {
		t.Errorf("Touch within a second changed mtime")
	}
	clk.t = clk.t.Add(2 * time.Second)
	if err := l.Touch(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(mtime()); d < 0 || d > time.Minute {
		t.Errorf("after Touch mtime is %s old", d)
	}
	// someone replaces our lock: Touch and Unlock must say so and not remove theirs
	os.Remove(p + ".lock")
	os.WriteFile(p+".lock", []byte("999:other"), 0o644)
	clk.t = clk.t.Add(2 * time.Second)
	if err := l.Touch(); err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Errorf("Touch on replaced lock: %v", err)
	}
	if err := l.Unlock(); err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Errorf("Unlock on replaced lock: %v", err)
	}
	if b, _ := os.ReadFile(p + ".lock"); string(b) != "999:other" {
		t.Errorf("Unlock removed someone else's lock")
	}
}

func TestAutoTouch(t *testing.T) {
	p := newSpool(t)
	opt := DefaultOptions()
	opt.AutoTouch = time.Millisecond
	start := time.Now()
	n := 0
	opt.Now = func() time.Time { n++; return start.Add(time.Duration(n) * time.Second) } // every call a second later
	l, err := Lock(context.Background(), p, opt)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p+".lock", old, old)
	deadline := time.Now().Add(10 * time.Second)
	for {
		fi, err := os.Stat(p + ".lock")
		if err != nil {
			t.Fatal(err)
		}
		if fi.ModTime().After(old.Add(time.Minute)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("AutoTouch did not refresh the lock within 10s")
		}
		runtime.Gosched()
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	wantOnly(t, filepath.Dir(p), "alice")
}

// TestUnwritableDir: without write access to the spool directory the dotlock is left out with
// a warning and the fcntl lock is still taken; with dotlock alone it is an error.
func TestUnwritableDir(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "alice")
	os.WriteFile(p, []byte("x"), 0o644)
	if os.Geteuid() == 0 {
		// root can write anywhere: try as an ordinary uid from a child process
		os.Chmod(filepath.Dir(dir), 0o755)
		os.Chmod(dir, 0o755)
		cmd := exec.Command("/proc/self/exe") // the test binary's own directory is 0700
		cmd.Env = append(os.Environ(), "SPOOLLOCK_HELPER=try", "SPOOLLOCK_PATH="+p)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 60000, Gid: 60000}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		s := string(out)
		if !strings.HasPrefix(s, "ok lockpath=\"\"") || !strings.Contains(s, "fcntl only") || !strings.Contains(s, dir) {
			t.Errorf("helper says %q", s)
		}
		wantOnly(t, dir, "alice")
		return
	}
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	l, err := Lock(context.Background(), p, Options{Dotlock: true, Fcntl: true})
	if err != nil {
		t.Fatal(err)
	}
	if l.LockPath() != "" || !strings.Contains(l.Warning(), "fcntl only") {
		t.Errorf("LockPath %q warning %q", l.LockPath(), l.Warning())
	}
	l.Unlock()
	if _, err := Lock(context.Background(), p, Options{Dotlock: true}); err == nil {
		t.Error("dotlock only in unwritable dir succeeded")
	}
}

// TestDotlockfile checks that Debian's dotlockfile (liblockfile) and we respect each other.
func TestDotlockfile(t *testing.T) {
	bin, err := exec.LookPath("dotlockfile")
	if err != nil {
		t.Skip("dotlockfile not installed (Debian package liblockfile-bin); skipping the compatibility test")
	}
	p := newSpool(t)
	if out, err := exec.Command(bin, "-l", "-p", "-r", "0", p+".lock").CombinedOutput(); err != nil {
		t.Fatalf("dotlockfile -l: %v %s", err, out)
	}
	c := newClock(0)
	if _, err := Lock(context.Background(), p, c.opts(time.Second, true, true)); !errors.Is(err, ErrLocked) {
		t.Fatalf("with dotlockfile's lock: err = %v, want ErrLocked", err)
	}
	if out, err := exec.Command(bin, "-u", p+".lock").CombinedOutput(); err != nil {
		t.Fatalf("dotlockfile -u: %v %s", err, out)
	}
	l, err := Lock(context.Background(), p, c.opts(0, true, true))
	if err != nil {
		t.Fatal(err)
	}
	// our lock, pid included, is seen as valid and is not taken
	if out, err := exec.Command(bin, "-c", "-p", p+".lock").CombinedOutput(); err != nil {
		t.Errorf("dotlockfile -c -p does not see our lock as valid: %v %s", err, out)
	}
	if out, err := exec.Command(bin, "-l", "-r", "0", p+".lock").CombinedOutput(); err == nil {
		t.Errorf("dotlockfile took the lock we hold: %s", out)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", p+".lock").CombinedOutput(); err == nil {
		t.Errorf("dotlockfile still sees a lock after Unlock: %s", out)
	}
	wantOnly(t, filepath.Dir(p), "alice")
}

// TestProcmailLockfile does the same with procmail's lockfile when it is installed.
func TestProcmailLockfile(t *testing.T) {
	bin, err := exec.LookPath("lockfile")
	if err != nil {
		t.Skip("lockfile (procmail) not installed; skipping")
	}
	p := newSpool(t)
	l, err := Lock(context.Background(), p, Options{Dotlock: true, Fcntl: true})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-r", "0", p+".lock").CombinedOutput(); err == nil {
		t.Errorf("lockfile took the lock we hold: %s", out)
	}
	l.Unlock()
	if out, err := exec.Command(bin, "-r", "0", p+".lock").CombinedOutput(); err != nil {
		t.Fatalf("lockfile after Unlock: %v %s", err, out)
	}
	c := newClock(0)
	if _, err := Lock(context.Background(), p, c.opts(time.Second, true, true)); !errors.Is(err, ErrLocked) {
		t.Errorf("with lockfile's lock: err = %v, want ErrLocked", err)
	}
	os.Remove(p + ".lock")
}

// A dotlock temp file left by a process killed while locking is taken over and removed by
// the next Lock; one of a live process locking right now makes Lock wait for it.
func TestLeftTempFile(t *testing.T) {
	p := newSpool(t)
	host, _ := os.Hostname()
	temp := filepath.Join(filepath.Dir(p), fmt.Sprintf(".%s.lock.%s.mb2md-temp", filepath.Base(p), host))

	// pid 1 is alive (and never us): its temp file is respected
	if err := os.WriteFile(temp, []byte("1:"+host+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newClock(0)
	if _, err := Lock(context.Background(), p, c.opts(0, true, false)); !errors.Is(err, ErrLocked) {
		t.Fatalf("with a live process's temp file: err = %v, want ErrLocked", err)
	}
	wantOnly(t, filepath.Dir(p), "alice", filepath.Base(temp))

	// a dead process's temp file (a pid above the kernel's maximum cannot exist)
	if err := os.WriteFile(temp, []byte("2147483647:"+host+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Lock(context.Background(), p, c.opts(0, true, false))
	if err != nil {
		t.Fatalf("with a dead process's temp file: %v", err)
	}
	wantOnly(t, filepath.Dir(p), "alice", "alice.lock")
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	wantOnly(t, filepath.Dir(p), "alice")
}
