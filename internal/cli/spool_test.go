package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// While a deliverer holds the spool's fcntl lock (Postfix and Dovecot take it to write),
// neither a conversion nor a verification with -m reads the spool: both give up with 75.
func TestSpoolFcntlLockHonoured(t *testing.T) {
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	if err := os.WriteFile(spool, []byte("From a@example.org Sat Jan  3 01:05:34 1996\n\nx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(spool, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-m", "-d", filepath.Join(dir, "Maildir"), "--lock-timeout", "100ms"},
		{"verify", "-m", "-d", filepath.Join(dir, "Maildir"), "--lock-timeout", "100ms"},
		{"-m", "-d", filepath.Join(dir, "Maildir"), "--lock-timeout", "100ms", "--dry-run"},
	} {
		var stderr bytes.Buffer
		env := Env{Args: args, Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &stderr, Cwd: dir,
			Getenv: func(k string) (string, bool) {
				if k == "MAIL" {
					return spool, true
				}
				return "", false
			},
			Now: time.Now}
		if code := Run(context.Background(), env); code != ExitTemporary {
			t.Errorf("%q: exit %d, want 75\n%s", args, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), "locked") {
			t.Errorf("%q: %s", args, stderr.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "Maildir")); !os.IsNotExist(err) {
		t.Errorf("a Maildir was created while the spool was locked: %v", err)
	}
}
