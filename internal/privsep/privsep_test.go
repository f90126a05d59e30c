package privsep

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mb2md/mb2md/internal/users"
)

func TestMain(m *testing.M) {
	if code, ok := MaybeChild(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

type echoIn struct {
	Text string
	N    int
}

type echoOut struct {
	In     echoIn
	UID    int
	GID    int
	EUID   int
	Groups []int
	Env    []string
	Cwd    string
	PID    int
	PGID   int
	Child  bool
}

type pathIn struct{ Path string }

var errCustom = errors.New("custom sentinel")

func init() {
	RegisterError("custom", errCustom)
	Register("echo", func(ctx context.Context, raw json.RawMessage) (any, error) {
		var in echoIn
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, err
		}
		fmt.Println("noise on stdout must not break the result")
		gs, _ := os.Getgroups()
		cwd, _ := os.Getwd()
		pgid, _ := syscall.Getpgid(0)
		env := os.Environ()
		sort.Strings(env)
		return echoOut{In: in, UID: os.Getuid(), GID: os.Getgid(), EUID: os.Geteuid(), Groups: gs, Env: env,
			Cwd: cwd, PID: os.Getpid(), PGID: pgid, Child: IsChild() && os.Getenv(envChild) == ""}, nil
	})
	Register("read", func(ctx context.Context, raw json.RawMessage) (any, error) {
		var in pathIn
		json.Unmarshal(raw, &in)
		b, err := os.ReadFile(in.Path)
		return string(b), err
	})
	Register("write", func(ctx context.Context, raw json.RawMessage) (any, error) {
		var in pathIn
		json.Unmarshal(raw, &in)
		return nil, os.WriteFile(in.Path, []byte("written by child"), 0o600)
	})
	Register("fail", func(ctx context.Context, raw json.RawMessage) (any, error) {
		return nil, fmt.Errorf("open /x: %w, and %w", fs.ErrNotExist, errCustom)
	})
	Register("crash", func(ctx context.Context, raw json.RawMessage) (any, error) {
		fmt.Fprintln(os.Stderr, "boom: something broke")
		os.Exit(7)
		return nil, nil
	})
	Register("unencodable", func(ctx context.Context, raw json.RawMessage) (any, error) {
		return func() {}, nil
	})
	Register("file", func(ctx context.Context, raw json.RawMessage) (any, error) {
		f := File(0)
		if f == nil {
			return nil, errors.New("no file 0")
		}
		b, err := io.ReadAll(f)
		return string(b), err
	})
	// block starts a grandchild that ignores SIGTERM, reports both pids and waits. With
	// Path set, it creates that file and removes it when ctx ends (a polite handler); without,
	// it ignores ctx (a stubborn one).
	Register("block", func(ctx context.Context, raw json.RawMessage) (any, error) {
		var in pathIn
		json.Unmarshal(raw, &in)
		gc := exec.Command("sh", "-c", `trap "" TERM; exec sleep 1000`)
		if err := gc.Start(); err != nil {
			return nil, err
		}
		if in.Path != "" {
			if err := os.WriteFile(in.Path, nil, 0o600); err != nil {
				return nil, err
			}
		}
		fmt.Printf("pids %d %d\n", os.Getpid(), gc.Process.Pid)
		if in.Path == "" {
			select {}
		}
		<-ctx.Done()
		os.Remove(in.Path)
		return nil, ctx.Err()
	})
}

func testUser(t *testing.T) users.User {
	if os.Geteuid() == 0 {
		return users.User{Name: "privtest", UID: 60000, GID: 60000, Home: "/home/privtest"}
	}
	return users.User{Name: "self", UID: os.Geteuid(), GID: os.Getegid(), Home: os.Getenv("HOME")}
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as another uid")
	}
}

// openDir makes a temp dir reachable by every uid (the test's own parents are 0700).
func openDir(t *testing.T) string {
	d := t.TempDir()
	os.Chmod(filepath.Dir(d), 0o755)
	os.Chmod(d, 0o755)
	return d
}

func TestEchoRoundTrip(t *testing.T) {
	u := testUser(t)
	t.Setenv("TZ", "Europe/Berlin")
	t.Setenv("SECRET_TOKEN", "must-not-leak")
	var out echoOut
	in := echoIn{Text: "héllo \x00 \"quoted\"\n", N: 42}
	if err := Run(context.Background(), u, "echo", in, &out, WithOutput(io.Discard), WithEnv("EXTRA=1")); err != nil {
		t.Fatal(err)
	}
	if out.In != in {
		t.Errorf("input came back as %+v", out.In)
	}
	if out.UID != u.UID || out.EUID != u.UID || out.GID != u.GID {
		t.Errorf("uid %d euid %d gid %d, want %d/%d", out.UID, out.EUID, out.GID, u.UID, u.GID)
	}
	if os.Geteuid() == 0 && len(out.Groups) != 0 {
		t.Errorf("supplementary groups %v, want none", out.Groups)
	}
	wantEnv := []string{"EXTRA=1", "HOME=" + u.Home, "LOGNAME=" + u.Name, "PATH=/usr/bin:/bin", "TZ=Europe/Berlin", "USER=" + u.Name}
	if strings.Join(out.Env, "|") != strings.Join(wantEnv, "|") {
		t.Errorf("env %q, want %q", out.Env, wantEnv)
	}
	if out.Cwd != "/" || out.PGID != out.PID || out.PID == os.Getpid() || !out.Child {
		t.Errorf("cwd %q pid %d pgid %d child-after-start %v", out.Cwd, out.PID, out.PGID, out.Child)
	}
	// out == nil discards
	if err := Run(context.Background(), u, "echo", in, nil, WithOutput(io.Discard)); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	u := testUser(t)
	for _, tc := range []struct {
		name    string
		handler string
		out     any
		want    []string
		is      []error
	}{
		{"handler error keeps sentinels", "fail", nil, []string{"as user " + u.Name, "open /x: file does not exist, and custom sentinel"}, []error{fs.ErrNotExist, errCustom}},
		{"crash", "crash", nil, []string{"child failed: exit status 7", "boom: something broke"}, nil},
		{"unencodable result", "unencodable", nil, []string{"encode result"}, nil},
		{"result of wrong shape", "echo", new(struct{ Other int }), []string{"decode result", "unknown field"}, nil},
		{"unknown handler", "nope", nil, []string{`no handler "nope" registered`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(context.Background(), u, tc.handler, echoIn{}, tc.out, WithOutput(io.Discard))
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			for _, target := range tc.is {
				if !errors.Is(err, target) {
					t.Errorf("error %v is not %v", err, target)
				}
			}
			if len(tc.is) == 0 && errors.Is(err, errCustom) {
				t.Errorf("error %v matches a sentinel it should not", err)
			}
		})
	}
	if err := Run(context.Background(), u, "echo", func() {}, nil); err == nil || !strings.Contains(err.Error(), "encode input") {
		t.Errorf("unencodable input: %v", err)
	}
	if os.Geteuid() != 0 {
		other := users.User{Name: "other", UID: os.Geteuid() + 1, GID: os.Getegid()}
		if err := Run(context.Background(), other, "echo", echoIn{}, nil); err == nil || !strings.Contains(err.Error(), "needs root") {
			t.Errorf("other uid without root: %v", err)
		}
	}
}

func TestFiles(t *testing.T) {
	u := testUser(t)
	dir := t.TempDir() // 0700 root: the child cannot open it by name, only use the open file
	p := filepath.Join(dir, "secret")
	os.WriteFile(p, []byte("handed over"), 0o600)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got string
	if err := Run(context.Background(), u, "file", nil, &got, WithFiles(f), WithOutput(io.Discard)); err != nil {
		t.Fatal(err)
	}
	if got != "handed over" {
		t.Errorf("got %q", got)
	}
	if File(0) != nil {
		t.Error("File in the parent is not nil")
	}
}

func TestDroppedPrivileges(t *testing.T) {
	needRoot(t)
	u := testUser(t)
	dir := openDir(t)
	secret := filepath.Join(dir, "secret")
	public := filepath.Join(dir, "public")
	os.WriteFile(secret, []byte("root only"), 0o600)
	os.WriteFile(public, []byte("everyone"), 0o644)
	rootDir := filepath.Join(dir, "rootdir")
	os.Mkdir(rootDir, 0o755)
	userDir := filepath.Join(dir, "home")
	os.Mkdir(userDir, 0o700)
	os.Chown(userDir, u.UID, u.GID)
	// attacks planted by the user in their own directory
	os.Symlink(secret, filepath.Join(userDir, "link-to-secret"))
	os.Symlink(rootDir, filepath.Join(userDir, "Maildir"))

	ctx := context.Background()
	var s string
	for _, tc := range []struct {
		name, handler, path string
		wantErr             bool
	}{
		{"read 0600 root file", "read", secret, true},
		{"read through planted symlink", "read", filepath.Join(userDir, "link-to-secret"), true},
		{"read 0644 file (control)", "read", public, false},
		{"write into root 0755 dir", "write", filepath.Join(rootDir, "x"), true},
		{"write through planted dir symlink", "write", filepath.Join(userDir, "Maildir", "y"), true},
		{"write into own dir (control)", "write", filepath.Join(userDir, "z"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(ctx, u, tc.handler, pathIn{tc.path}, &s, WithOutput(io.Discard))
			if !tc.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "permission denied") {
				t.Fatalf("err = %v, want permission denied", err)
			}
		})
	}
	if s != "everyone" {
		t.Errorf("control read got %q", s)
	}
	if ents, _ := os.ReadDir(rootDir); len(ents) != 0 {
		t.Errorf("child wrote into the root dir: %v", ents)
	}
	fi, err := os.Stat(filepath.Join(userDir, "z"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != u.UID || int(st.Gid) != u.GID || fi.Mode().Perm() != 0o600 {
		t.Errorf("file written by child: uid %d gid %d mode %v", st.Uid, st.Gid, fi.Mode())
	}
}

// startBlock runs the block handler in the background and returns the pids it reports.
func startBlock(t *testing.T, ctx context.Context, u users.User, path string, grace time.Duration) (child, grandchild int, result chan error) {
	pr, pw := io.Pipe()
	result = make(chan error, 1)
	go func() {
		err := Run(ctx, u, "block", pathIn{path}, nil, WithOutput(pw), WithGrace(grace))
		pw.Close()
		result <- err
	}()
	br := bufio.NewReader(pr)
	line, err := br.ReadString('\n')
	go io.Copy(io.Discard, br)
	if err != nil {
		t.Fatalf("no pids from child: %v (%q)", err, line)
	}
	if _, err := fmt.Sscanf(line, "pids %d %d", &child, &grandchild); err != nil {
		t.Fatalf("bad line %q", line)
	}
	return child, grandchild, result
}

// waitGone waits (without sleeping) until pid has exited, via a pidfd.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return
	}
	if err != nil {
		t.Skipf("pidfd_open: %v", err)
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 20000)
	if err != nil || n != 1 {
		t.Errorf("pid %d still running 20s after cancel (%v)", pid, err)
	}
}

func TestCancelKillsGroup(t *testing.T) {
	u := testUser(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	child, grandchild, result := startBlock(t, ctx, u, "", 50*time.Millisecond)
	for _, p := range []int{child, grandchild} {
		if err := unix.Kill(p, 0); err != nil {
			t.Fatalf("pid %d not running before cancel: %v", p, err)
		}
	}
	cancel()
	err := <-result
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	waitGone(t, child)
	waitGone(t, grandchild) // ignores SIGTERM: only the group SIGKILL ends it
}

func TestCancelIsPolite(t *testing.T) {
	u := testUser(t)
	dir := openDir(t)
	if os.Geteuid() == 0 {
		os.Chown(dir, u.UID, u.GID)
	}
	marker := filepath.Join(dir, "in-progress")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	child, grandchild, result := startBlock(t, ctx, u, marker, time.Minute)
	if _, err := os.Stat(marker); err != nil {
		t.Fatal(err)
	}
	cancel()
	start := time.Now()
	err := <-result
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("polite child took %s; the grace period was used up", time.Since(start))
	}
	if _, err := os.Stat(marker); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("child did not clean up on SIGTERM: %v", err)
	}
	waitGone(t, child)
	// the grandchild ignores SIGTERM and outlives its parent: the parent only waits for the
	// child, so kill it here
	unix.Kill(grandchild, unix.SIGKILL)
	waitGone(t, grandchild)
}

func TestCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Run(ctx, testUser(t), "echo", echoIn{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestNotChild(t *testing.T) {
	if code, ok := MaybeChild(); ok || code != 0 || IsChild() {
		t.Errorf("MaybeChild in the parent = %d, %v", code, ok)
	}
}

func TestTail(t *testing.T) {
	tb := &tailBuffer{max: 5}
	for _, s := range []string{"ab", "cdef", "g"} {
		tb.Write([]byte(s))
	}
	if tb.String() != "cdefg" {
		t.Errorf("tail %q, want cdefg", tb.String())
	}
}
