// Package lockfile holds what the two dotlocks share — Dovecot's dovecot-uidlist.lock (in
// internal/maildir) and the spool's <mbox>.lock (in internal/spoollock): Dovecot's rule for
// telling that a file changed, reading the owner written into a lock file, and telling
// whether that owner is gone. Each package keeps its own protocol for taking the lock.
package lockfile

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Change follows a file the way Dovecot's update_change_info does, to tell a lock that is
// in use (it, or the file it protects, keeps changing) from a stale one.
type Change struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64
	seen         bool
}

// Update records st. When the file changed since the last look, or on the first look, it
// moves *last (Unix seconds) forward to when that happened: now, or on the first look the
// file's own ctime (its mtime when that is newer and not in the future). It reports whether
// the file changed.
func (c *Change) Update(st *unix.Stat_t, last *int64, now int64) bool {
	n := Change{dev: uint64(st.Dev), ino: uint64(st.Ino), size: st.Size, mtime: st.Mtim.Sec, ctime: st.Ctim.Sec, seen: true}
	if c.seen && n == *c {
		return false
	}
	change := now
	if !c.seen {
		change = n.ctime
		if n.mtime <= now && n.mtime > n.ctime {
			change = n.mtime
		}
	}
	if *last < change {
		*last = change
	}
	*c = n
	return true
}

// Owner is what a lock file says about its holder: "<pid>", "<pid>\n" or "<pid>:<host>".
type Owner struct {
	PID     int    // 0 when no PID could be read
	Host    string // "" when the file names no host
	HasHost bool   // the content has the "<pid>:<host>" form
	Content string // what was read, white space trimmed (at most 512 bytes)
}

// Local reports whether the owner is a process of this host: a PID and no host, or ours.
func (o Owner) Local() bool { return o.PID > 0 && (o.Host == "" || o.Host == Hostname()) }

// ReadOwner reads the owner of a lock file without following a symlink or blocking on a FIFO;
// an unreadable file gives the zero Owner.
func ReadOwner(path string) Owner {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return Owner{}
	}
	defer f.Close()
	buf := make([]byte, 512)
	n, _ := f.Read(buf)
	o := Owner{Content: strings.TrimSpace(string(buf[:n]))}
	s := o.Content
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s, o.Host, o.HasHost = s[:i], s[i+1:], true
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && pid > 0 {
		o.PID = pid
	}
	return o
}

// Gone reports whether no process has this PID (kill(pid, 0) fails with ESRCH). A process
// of another user (EPERM) is not gone; nor is a PID below 1 (that would signal a group).
func Gone(pid int) bool {
	return pid > 0 && errors.Is(unix.Kill(pid, 0), unix.ESRCH)
}

// Hostname is this host's name ("localhost" when it cannot be read), read once.
var Hostname = sync.OnceValue(func() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
})
