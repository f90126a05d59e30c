// Package spoollock locks an mbox spool file the way the programs that deliver into it and read
// from it do, so that mail delivered while mb2md reads a spool is either read whole or left for
// the next run.
//
// Two locks are taken, in this order (Dovecot's "dotlock fcntl", Postfix local's
// mailbox_delivery_lock = fcntl, dotlock on Linux takes both as well):
//
//   - a dotlock: the file <spool>.lock, created the NFS-safe way of liblockfile and Dovecot's
//     file-dotlock.c: a unique temporary file is created in the spool directory, link()ed to
//     <spool>.lock, and the lock counts as ours when the temporary file's link count is 2. The
//     lock file holds "<pid>:<hostname>\n" (Dovecot's format; liblockfile and procmail read the
//     leading number as the pid).
//   - a read lock with fcntl on the spool file itself. It is an open file description lock
//     (F_OFD_SETLK) where the kernel has them: they conflict with the classic F_SETLK locks of
//     Postfix, Dovecot and mutt, but belong to the open file rather than to the process, so
//     closing some other descriptor of the spool in the same process does not drop them, and the
//     descriptor from File can be handed to a child process with the lock still held. Elsewhere the
//     classic F_SETLK is used.
//
// When a try fails on the fcntl lock, the dotlock is given back before waiting, so a writer that
// holds fcntl and waits for the dotlock (Dovecot's order) is never blocked by us.
//
// Stale dotlocks are broken with Dovecot's rules: a lock whose pid is on this host and no longer
// runs (and that is older than 2 seconds) is removed at once; any other lock is removed when
// neither the lock file nor the spool file has changed (inode, size, mtime, ctime) for
// Options.StaleAfter.
package spoollock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mb2md/mb2md/internal/lockfile"
)

// ErrLocked is wrapped by the error Lock returns when the lock is still held by someone else when
// Options.Timeout runs out.
var ErrLocked = errors.New("spool is locked")

// Defaults used by DefaultOptions.
const (
	DefaultTimeout    = 5 * time.Minute // Dovecot's mbox_lock_timeout
	DefaultRetry      = 100 * time.Millisecond
	DefaultStaleAfter = 5 * time.Minute // liblockfile's limit; Dovecot's mbox_dotlock_change_timeout is 2 minutes
	maxRetry          = 3 * time.Second // Dovecot's LOCK_MAX_WAIT_USECS
	stalePIDCheck     = 2 * time.Second // Dovecot's STALE_PID_CHECK_SECS
	lockSuffix        = ".lock"
)

// Options say which locks to take and how long to wait for them.
type Options struct {
	// Timeout is how long to keep trying; 0 means a single try.
	Timeout time.Duration
	// Retry is the first wait between tries (default DefaultRetry). The wait grows by half each
	// time the lock holder did not change, up to 3 seconds, as in Dovecot.
	Retry time.Duration
	// Dotlock takes <spool>.lock.
	Dotlock bool
	// Fcntl takes an fcntl read lock on the spool file.
	Fcntl bool
	// StaleAfter is how long a dotlock and its spool must stay unchanged before the dotlock is
	// taken for stale and removed (default DefaultStaleAfter; negative: never).
	StaleAfter time.Duration
	// AutoTouch, when positive, refreshes the dotlock's mtime at this interval from a background
	// goroutine until Unlock, so a long read is not taken for stale by others.
	AutoTouch time.Duration

	// Now and Wait replace the clock and the wait between tries (for tests). Wait must return
	// ctx.Err() when ctx ends first.
	Now  func() time.Time
	Wait func(ctx context.Context, d time.Duration) error
}

// DefaultOptions returns both locks, DefaultTimeout, DefaultRetry and DefaultStaleAfter.
func DefaultOptions() Options {
	return Options{Timeout: DefaultTimeout, Retry: DefaultRetry, Dotlock: true, Fcntl: true, StaleAfter: DefaultStaleAfter}
}

// Held is a held spool lock. Its methods are safe for concurrent use.
type Held struct {
	path     string
	lockPath string
	now      func() time.Time
	warning  string

	mu        sync.Mutex
	file      *os.File // the spool, read-only, holding the fcntl lock (nil without Fcntl)
	lockFile  *os.File // our dotlock inode (nil without a dotlock)
	lockDev   uint64
	lockIno   uint64
	lastTouch time.Time
	released  bool
	stopTouch chan struct{}
	touchDone chan struct{}
}

// Path is the spool file the lock protects.
func (l *Held) Path() string { return l.path }

// LockPath is the dotlock file, or "" when no dotlock is held.
func (l *Held) LockPath() string {
	if l.lockFile == nil {
		return ""
	}
	return l.lockPath
}

// Warning is non-empty when fewer locks than asked for are held (the spool directory is not
// writable, so only the fcntl lock could be taken) or when a stale dotlock was removed.
func (l *Held) Warning() string { return l.warning }

// File is the spool opened read-only (O_NOFOLLOW) on which the fcntl lock is held, or nil when
// Fcntl was not asked for. Read the spool through it: it is the very inode that is locked. Do
// not close it; Unlock does. Without OFD locks (non-Linux), closing any other descriptor of the
// spool in this process drops the lock.
func (l *Held) File() *os.File { return l.file }

// Lock locks the spool at path. A spool that does not exist gives an error wrapping
// fs.ErrNotExist and leaves no lock behind. A spool that is a symbolic link or not a regular
// file is refused. When the spool directory does not let the caller create files, the dotlock is
// left out, the fcntl lock alone is taken and Warning says so (an error if Fcntl is off).
func Lock(ctx context.Context, path string, opt Options) (*Held, error) {
	if !opt.Dotlock && !opt.Fcntl {
		return nil, fmt.Errorf("lock %s: no lock method chosen; enable dotlock or fcntl", path)
	}
	if opt.Retry <= 0 {
		opt.Retry = DefaultRetry
	}
	if opt.StaleAfter == 0 {
		opt.StaleAfter = DefaultStaleAfter
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Wait == nil {
		opt.Wait = realWait
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	l := &Held{path: path, lockPath: path + lockSuffix, now: opt.Now}

	var file *os.File
	if opt.Fcntl {
		f, err := openSpool(path)
		if err != nil {
			return nil, err
		}
		file = f
	} else if _, err := os.Lstat(path); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}

	d := &dotlocker{path: path, lockPath: l.lockPath, stale: opt.StaleAfter, now: opt.Now}
	defer d.cleanTemp()
	useDot := opt.Dotlock
	deadline := opt.Now().Add(opt.Timeout)
	wait := opt.Retry
	var holder string
	for {
		got := true
		if useDot {
			ok, who, err := d.try()
			switch {
			case err != nil && isNoWrite(err) && opt.Fcntl:
				useDot = false
				l.warning = fmt.Sprintf("cannot create a dotlock in %s (%v): locking %s with fcntl only; give the spool directory's group (e.g. mail) write access to dotlock it as delivery agents do",
					filepath.Dir(path), errnoText(err), path)
			case err != nil:
				closeFile(file)
				return nil, fmt.Errorf("lock %s: %w", path, err)
			case !ok:
				got = false
				holder = who
			}
		}
		if got && file != nil {
			ok, who, err := fcntlTry(file)
			if err != nil {
				d.release()
				closeFile(file)
				return nil, fmt.Errorf("lock %s: fcntl: %w", path, err)
			}
			if !ok {
				got = false
				holder = who
				d.release() // let a writer that holds fcntl and wants the dotlock go on
			}
		}
		if got && file != nil {
			// A writer may have renamed a new mailbox over the path while we waited: then the
			// inode we locked is no longer the spool. Start again on the new one.
			same, err := sameFile(path, file)
			if err != nil {
				d.release()
				closeFile(file)
				return nil, fmt.Errorf("lock %s: %w", path, err)
			}
			if !same {
				d.release()
				closeFile(file)
				if file, err = openSpool(path); err != nil {
					return nil, err
				}
				continue
			}
		}
		if got {
			break
		}
		if d.changed {
			wait = opt.Retry
			d.changed = false
		}
		left := deadline.Sub(opt.Now())
		if left <= 0 {
			closeFile(file)
			msg := fmt.Sprintf("lock %s: still locked after %s", path, opt.Timeout)
			if holder != "" {
				msg += " by " + holder
			}
			return nil, fmt.Errorf("%s: %w; try again later", msg, ErrLocked)
		}
		if err := opt.Wait(ctx, min(wait, left)); err != nil {
			closeFile(file)
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if wait < maxRetry {
			wait = min(wait+wait/2, maxRetry)
		}
	}
	if err := ctx.Err(); err != nil { // cancelled while we got it: leave nothing behind
		d.release()
		closeFile(file)
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	l.file = file
	l.warning = strings.Join(append(d.broke, nonEmpty(l.warning)...), "; ")
	if d.held != nil {
		l.lockFile, l.lockDev, l.lockIno = d.held, d.heldDev, d.heldIno
		l.lastTouch = opt.Now()
		if opt.AutoTouch > 0 {
			l.startAutoTouch(opt.AutoTouch)
		}
	}
	return l, nil
}

// Touch refreshes the dotlock's mtime so that others do not take it for stale during a long
// read. Calls within a second of the last touch do nothing, so it may be called per message. It
// fails when the dotlock was removed or replaced by someone else.
func (l *Held) Touch() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return fmt.Errorf("touch %s: lock already released", l.lockPath)
	}
	if l.lockFile == nil {
		return nil
	}
	now := l.now()
	if now.Sub(l.lastTouch) < time.Second && !now.Before(l.lastTouch) {
		return nil
	}
	if err := l.checkOurs(); err != nil {
		return fmt.Errorf("touch %s: %w", l.lockPath, err)
	}
	t := time.Now()
	tv := unix.NsecToTimeval(t.UnixNano())
	if err := unix.Futimes(int(l.lockFile.Fd()), []unix.Timeval{tv, tv}); err != nil {
		return fmt.Errorf("touch %s: %w", l.lockPath, err)
	}
	l.lastTouch = now
	return nil
}

// checkOurs reports an error when the lock path no longer names our inode. l.mu is held.
func (l *Held) checkOurs() error {
	var st unix.Stat_t
	if err := unix.Lstat(l.lockPath, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return errors.New("our dotlock was removed by someone else")
		}
		return err
	}
	if uint64(st.Dev) != l.lockDev || st.Ino != l.lockIno {
		return errors.New("our dotlock was replaced by someone else")
	}
	return nil
}

// Unlock removes the dotlock (only if it is still ours) and drops the fcntl lock. It is safe to
// call more than once; later calls do nothing.
func (l *Held) Unlock() error {
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return nil
	}
	l.released = true
	stop, done := l.stopTouch, l.touchDone
	l.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	if l.lockFile != nil {
		if err := l.checkOurs(); err != nil {
			errs = append(errs, fmt.Errorf("unlock %s: %w; the spool may have been changed while it was read", l.lockPath, err))
		} else if err := os.Remove(l.lockPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("unlock: %w; remove it by hand", err))
		}
		l.lockFile.Close()
	}
	if l.file != nil {
		if err := l.file.Close(); err != nil {
			errs = append(errs, fmt.Errorf("unlock %s: %w", l.path, err))
		}
	}
	return errors.Join(errs...)
}

func (l *Held) startAutoTouch(every time.Duration) {
	l.stopTouch = make(chan struct{})
	l.touchDone = make(chan struct{})
	go func() {
		defer close(l.touchDone)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-l.stopTouch:
				return
			case <-t.C:
				_ = l.Touch()
			}
		}
	}()
}

func realWait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// openSpool opens the spool read-only without following a final symlink and without blocking on
// a FIFO, and checks that it is a regular file.
func openSpool(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("lock %s: the spool is a symbolic link; refusing to follow it", path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, &fs.PathError{Op: "open", Path: path, Err: err})
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %s: not a regular file; a spool must be a plain file", path)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// sameFile reports whether path still names the file f has open.
func sameFile(path string, f *os.File) (bool, error) {
	var a, b unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &a); err != nil {
		return false, err
	}
	if err := unix.Lstat(path, &b); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, &fs.PathError{Op: "lstat", Path: path, Err: err}
		}
		return false, err
	}
	return a.Dev == b.Dev && a.Ino == b.Ino, nil
}

// fcntlTry takes a whole-file read lock without waiting. It reports false and a description of
// the holder when a conflicting lock is held.
func fcntlTry(f *os.File) (bool, string, error) {
	fd := int(f.Fd())
	lk := unix.Flock_t{Type: unix.F_RDLCK, Whence: 0, Start: 0, Len: 0}
	err := setlk(fd, &lk)
	if err == nil {
		return true, "", nil
	}
	if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EACCES) {
		return false, "", err
	}
	q := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	who := "an fcntl lock on " + f.Name()
	if unix.FcntlFlock(uintptr(fd), unix.F_GETLK, &q) == nil && q.Type != unix.F_UNLCK && q.Pid > 0 {
		who += " held by " + describePID(int(q.Pid))
	}
	return false, who, nil
}

func describePID(pid int) string {
	s := "pid " + strconv.Itoa(pid)
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); err == nil {
		if c := strings.TrimSpace(string(b)); c != "" {
			s += " (" + c + ")"
		}
	}
	return s
}

func isNoWrite(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS)
}

func errnoText(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		return en.Error()
	}
	return err.Error()
}

// dotlocker holds the state of the dotlock tries of one Lock call.
type dotlocker struct {
	path, lockPath string
	stale          time.Duration
	now            func() time.Time

	temp       string
	tempFile   *os.File
	lockInfo   lockfile.Change
	fileInfo   lockfile.Change
	lastChange int64 // Unix seconds: when the lock or the spool last changed
	changed    bool  // the lock changed hands since the last look (resets the retry wait)

	held             *os.File
	heldDev, heldIno uint64
	broke            []string // stale locks removed, for Warning
}

// update records st in ci and moves lastChange like Dovecot's update_change_info.
func (d *dotlocker) update(st *unix.Stat_t, ci *lockfile.Change) bool {
	return ci.Update(st, &d.lastChange, d.now().Unix())
}

// try makes one attempt. It returns ok when the dotlock is ours, or a description of the holder.
func (d *dotlocker) try() (ok bool, holder string, err error) {
	for range 2 { // a second round right after breaking a stale lock
		var st unix.Stat_t
		err := unix.Lstat(d.lockPath, &st)
		switch {
		case errors.Is(err, unix.ENOENT):
			ok, err := d.create()
			if err != nil || ok {
				return ok, "", err
			}
			continue // lost a race: look at the new holder
		case err != nil:
			return false, "", &fs.PathError{Op: "lstat", Path: d.lockPath, Err: err}
		}
		if d.update(&st, &d.lockInfo) {
			d.changed = true
		}
		holder = d.describe(&st)
		stale, why := d.isStale(&st)
		if !stale {
			return false, holder, nil
		}
		// Remove it only if it is still the same file we judged.
		var st2 unix.Stat_t
		if unix.Lstat(d.lockPath, &st2) == nil && st2.Ino == st.Ino && st2.Dev == st.Dev {
			if err := unix.Unlink(d.lockPath); err != nil && !errors.Is(err, unix.ENOENT) {
				return false, holder, &fs.PathError{Op: "remove stale lock", Path: d.lockPath, Err: err}
			}
			d.broke = append(d.broke, fmt.Sprintf("removed stale dotlock %s (%s)", d.lockPath, why))
		}
	}
	return false, holder, nil
}

// isStale applies Dovecot's rules to the current lock file.
func (d *dotlocker) isStale(st *unix.Stat_t) (bool, string) {
	now := d.now()
	if o := lockfile.ReadOwner(d.lockPath); o.Local() && now.Sub(time.Unix(st.Mtim.Sec, 0)) > stalePIDCheck {
		if lockfile.Gone(o.PID) {
			return true, fmt.Sprintf("pid %d is gone", o.PID)
		}
		return false, ""
	}
	if d.stale < 0 {
		return false, ""
	}
	staleSecs := int64(d.stale / time.Second)
	if now.Unix()-d.lastChange <= staleSecs {
		return false, ""
	}
	var fst unix.Stat_t
	if err := unix.Stat(d.path, &fst); err == nil {
		d.update(&fst, &d.fileInfo)
	}
	if now.Unix()-d.lastChange > staleSecs {
		return true, fmt.Sprintf("unchanged for %s", d.stale)
	}
	return false, ""
}

// describe names the holder of the lock file for error messages.
func (d *dotlocker) describe(st *unix.Stat_t) string {
	s := d.lockPath
	o := lockfile.ReadOwner(d.lockPath)
	switch {
	case o.Local():
		s += " held by " + describePID(o.PID)
	case o.PID > 0:
		s += " held by pid " + strconv.Itoa(o.PID) + " on another host"
	default:
		s += " (owner uid " + strconv.Itoa(int(st.Uid)) + ")"
	}
	return s
}

// create makes the temp file if needed and links it to the lock path.
func (d *dotlocker) create() (bool, error) {
	if d.tempFile == nil {
		host := strings.NewReplacer("/", "_", ":", "_").Replace(lockfile.Hostname())
		// One temp name per lock and host (not per process): a temp file left behind by a
		// process killed while locking is found and removed by the next attempt, instead of
		// piling up in the spool directory.
		d.temp = filepath.Join(filepath.Dir(d.lockPath), fmt.Sprintf(".%s.%s.mb2md-temp", filepath.Base(d.lockPath), host))
		fd, err := unix.Open(d.temp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if errors.Is(err, unix.EEXIST) {
			if pid := lockfile.ReadOwner(d.temp).PID; pid > 0 && pid != os.Getpid() && !lockfile.Gone(pid) {
				d.temp = ""
				return false, nil // another process of this host is taking the lock right now
			}
			// left by a dead process (or unreadable): take it over
			unix.Unlink(d.temp)
			fd, err = unix.Open(d.temp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
			if errors.Is(err, unix.EEXIST) {
				d.temp = ""
				return false, nil
			}
		}
		if err != nil {
			temp := d.temp
			d.temp = ""
			return false, &fs.PathError{Op: "create dotlock temp file", Path: temp, Err: err}
		}
		d.tempFile = os.NewFile(uintptr(fd), d.temp)
		if _, err := fmt.Fprintf(d.tempFile, "%d:%s\n", os.Getpid(), host); err != nil {
			// like Dovecot: an empty lock file is still a lock
			_ = d.tempFile.Truncate(0)
		}
	}
	linkErr := unix.Link(d.temp, d.lockPath)
	// The result of link() is not trusted (NFS); the link count of the temp file is.
	var st unix.Stat_t
	if err := unix.Fstat(int(d.tempFile.Fd()), &st); err != nil {
		return false, &fs.PathError{Op: "stat", Path: d.temp, Err: err}
	}
	if st.Nlink != 2 {
		if linkErr != nil && !errors.Is(linkErr, unix.EEXIST) {
			return false, &fs.PathError{Op: "link", Path: d.lockPath, Err: linkErr}
		}
		return false, nil
	}
	unix.Unlink(d.temp)
	d.temp = ""
	d.held, d.heldDev, d.heldIno = d.tempFile, uint64(st.Dev), st.Ino
	d.tempFile = nil
	return true, nil
}

// release removes a dotlock taken during this Lock call (if still ours).
func (d *dotlocker) release() {
	if d.held == nil {
		return
	}
	var st unix.Stat_t
	if unix.Lstat(d.lockPath, &st) == nil && uint64(st.Dev) == d.heldDev && st.Ino == d.heldIno {
		unix.Unlink(d.lockPath)
	}
	d.held.Close()
	d.held = nil
}

// cleanTemp removes the temp file if one is left.
func (d *dotlocker) cleanTemp() {
	if d.tempFile != nil {
		d.tempFile.Close()
		d.tempFile = nil
	}
	if d.temp != "" {
		unix.Unlink(d.temp)
		d.temp = ""
	}
}
