package lockfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func stat(t *testing.T, p string) *unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

// The first look dates the change from the file itself (its ctime, or its mtime when newer
// and not in the future); an unchanged file moves nothing; a changed one moves the time to now.
func TestChangeUpdate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := stat(t, p)
	now := st.Ctim.Sec + 1000
	var c Change
	var last int64
	if !c.Update(st, &last, now) || last != st.Ctim.Sec {
		t.Fatalf("first look: last %d, want the ctime %d", last, st.Ctim.Sec)
	}
	if c.Update(st, &last, now+5) || last != st.Ctim.Sec {
		t.Fatalf("unchanged file: last %d moved", last)
	}
	if err := os.WriteFile(p, []byte("xy"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !c.Update(stat(t, p), &last, now+10) || last != now+10 {
		t.Fatalf("changed file: last %d, want now %d", last, now+10)
	}
	// an mtime in the future does not count on the first look
	future := time.Unix(now+100000, 0)
	if err := os.Chtimes(p, future, future); err != nil {
		t.Fatal(err)
	}
	var c2 Change
	var last2 int64
	st = stat(t, p)
	c2.Update(st, &last2, now)
	if last2 != st.Ctim.Sec {
		t.Fatalf("future mtime taken: last %d, want the ctime %d", last2, st.Ctim.Sec)
	}
}

func TestReadOwner(t *testing.T) {
	dir := t.TempDir()
	me := Hostname()
	for _, c := range []struct {
		content string
		want    Owner
		local   bool
	}{
		{"1234", Owner{PID: 1234, Content: "1234"}, true},
		{"1234\n", Owner{PID: 1234, Content: "1234"}, true},
		{"1234:" + me, Owner{PID: 1234, Host: me, HasHost: true, Content: "1234:" + me}, true},
		{"1234:elsewhere.example\n", Owner{PID: 1234, Host: "elsewhere.example", HasHost: true, Content: "1234:elsewhere.example"}, false},
		{"", Owner{}, false},
		{"garbage", Owner{Content: "garbage"}, false},
		{"-5:" + me, Owner{Host: me, HasHost: true, Content: "-5:" + me}, false},
	} {
		p := filepath.Join(dir, "lock")
		if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := ReadOwner(p); got != c.want || got.Local() != c.local {
			t.Errorf("%q: %+v local %v, want %+v local %v", c.content, got, got.Local(), c.want, c.local)
		}
	}
	// a symlink is not followed, a FIFO does not block, a missing file gives nothing
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("99"), 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{link, fifo, filepath.Join(dir, "missing")} {
		if got := ReadOwner(p); got.PID != 0 {
			t.Errorf("%s: %+v, want no owner", p, got)
		}
	}
}

func TestGone(t *testing.T) {
	if Gone(os.Getpid()) {
		t.Error("this process is gone")
	}
	if Gone(0) || Gone(-1) {
		t.Error("PIDs below 1 are gone")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if !Gone(cmd.Process.Pid) {
		t.Errorf("the reaped child %d is not gone", cmd.Process.Pid)
	}
}
