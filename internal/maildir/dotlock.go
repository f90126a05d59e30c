package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mb2md/mb2md/internal/lockfile"
)

// This file reimplements the dotlock protocol of Dovecot's src/lib/file-dotlock.c with
// dotlock_use_excl=yes (Dovecot's default): the lock of FILE is FILE.lock, created with
// O_CREAT|O_EXCL. A lock that only serializes holds "<pid>:<hostname>"; a lock whose
// content replaces FILE (dovecot-keywords, subscriptions) is written and renamed over FILE.
// A lock is overridden (removed) when it holds the PID of a process on this host that no
// longer exists, or when neither it nor FILE changed for the stale timeout.

// Dovecot's timeouts (maildir-uidlist.h, subscription-file.c).
const (
	// UIDListLockStale is how long an unchanged dovecot-uidlist.lock lives before it is
	// overridden (MAILDIR_UIDLIST_LOCK_STALE_TIMEOUT).
	UIDListLockStale = 120 * time.Second
	// UIDListLockTimeout is how long Dovecot waits for dovecot-uidlist.lock.
	UIDListLockTimeout = UIDListLockStale + 2*time.Second
	// SubscriptionsLockTimeout and SubscriptionsLockStale are the subscriptions file's.
	SubscriptionsLockTimeout = 120 * time.Second
	SubscriptionsLockStale   = 30 * time.Second

	// stalePIDCheck: a lock younger than this is not checked for a dead PID.
	stalePIDCheck = 2 * time.Second
	lockWaitFirst = 100 * time.Millisecond
	lockWaitMax   = 3 * time.Second
)

// LockOptions tune the waiting for a dotlock. The zero value means Dovecot's timeouts for
// the file being locked, the real clock and real sleeping.
type LockOptions struct {
	// Timeout is how long to wait for a lock held by someone else before giving up. A
	// negative value tries only once.
	Timeout time.Duration
	// StaleTimeout is how long a lock (and the file it protects) must stay unchanged to
	// be overridden. A negative value never overrides for age.
	StaleTimeout time.Duration
	// Now and Sleep replace the clock (tests).
	Now   func() time.Time
	Sleep func(time.Duration)
}

func (o LockOptions) with(timeout, stale time.Duration) LockOptions {
	if o.Timeout == 0 {
		o.Timeout = timeout
	}
	if o.StaleTimeout == 0 {
		o.StaleTimeout = stale
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = time.Sleep
	}
	return o
}

// ErrLockTimeout is wrapped by the error returned when a dotlock could not be taken in time.
var ErrLockTimeout = errors.New("timed out waiting for lock")

// Dotlock is a held FILE.lock.
type Dotlock struct {
	path     string // the protected file
	lockPath string
	dev, ino uint64
	f        *os.File // open lock file when its content replaces path
	release  func()
	done     bool
}

// LockPath returns the lock file's path.
func (d *Dotlock) LockPath() string { return d.lockPath }

// processLocks serializes this process's own users of one lock path: Dovecot (and so we)
// override a lock holding our own PID, which would break a lock another goroutine holds.
var processLocks = struct {
	sync.Mutex
	m map[string]chan struct{}
}{m: map[string]chan struct{}{}}

func processLock(p string) func() {
	for {
		processLocks.Lock()
		ch, busy := processLocks.m[p]
		if !busy {
			ch = make(chan struct{})
			processLocks.m[p] = ch
			processLocks.Unlock()
			return func() {
				processLocks.Lock()
				delete(processLocks.m, p)
				processLocks.Unlock()
				close(ch)
			}
		}
		processLocks.Unlock()
		<-ch
	}
}

type lockState struct {
	path, lockPath string
	opt            LockOptions
	lock, file     lockfile.Change
	lastChange     int64
	pidRead        bool
	havePID        bool
	pid            int
	holder         string
}

// readPID returns the PID of a "<pid>:<host>" lock file when host is this host, else -1.
// holder is set to the content for error messages.
func (s *lockState) readPID() int {
	o := lockfile.ReadOwner(s.lockPath)
	if !o.HasHost {
		return -1
	}
	s.holder = o.Content
	if !o.Local() {
		return -1
	}
	return o.PID
}

// check looks at the current lock file. It returns true when there is no lock (any more)
// and creating one should be tried now.
func (s *lockState) check(now time.Time) (bool, error) {
	secs := now.Unix()
	var st unix.Stat_t
	if err := unix.Lstat(s.lockPath, &st); err != nil {
		if err == unix.ENOENT {
			return true, nil
		}
		return false, pathErr("lstat", s.lockPath, err)
	}
	changed := s.lock.Update(&st, &s.lastChange, secs)
	pid := -1
	switch {
	case changed || !s.pidRead:
		// new lock file (or first look): a fresh lock surely has a live owner
		if st.Mtim.Sec >= secs-int64(stalePIDCheck/time.Second) {
			s.pidRead = false
		} else {
			pid = s.readPID()
			s.pidRead = true
		}
		s.havePID = pid != -1
	case s.havePID:
		pid = s.readPID()
		s.havePID = pid != -1
	}
	if s.havePID {
		s.pid = pid
		if !lockfile.Gone(pid) && pid != os.Getpid() {
			return false, nil
		}
		// the owner is gone (or it is our own PID left over): override unless the lock
		// was just replaced
		var st2 unix.Stat_t
		if err := unix.Lstat(s.lockPath, &st2); err != nil {
			if err == unix.ENOENT {
				return true, nil
			}
			return false, pathErr("lstat", s.lockPath, err)
		}
		if s.lock.Update(&st2, &s.lastChange, secs) {
			return false, nil
		}
		return s.override()
	}
	if s.opt.StaleTimeout < 0 {
		return false, nil
	}
	stale := int64(s.opt.StaleTimeout / time.Second)
	if secs > s.lastChange+stale {
		// also the protected file must have stayed unchanged
		var fst unix.Stat_t
		if err := unix.Stat(s.path, &fst); err == nil {
			s.file.Update(&fst, &s.lastChange, secs)
		} else if err != unix.ENOENT {
			return false, pathErr("stat", s.path, err)
		}
	}
	if secs > s.lastChange+stale {
		return s.override()
	}
	return false, nil
}

func (s *lockState) override() (bool, error) {
	if err := os.Remove(s.lockPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("cannot remove stale lock file %s: %w", s.lockPath, err)
	}
	// like Dovecot, pause so that another process overriding the same stale lock at the
	// same time removes it before we create ours, not after
	s.opt.Sleep(lockWaitFirst)
	return true, nil
}

// acquireDotlock takes path.lock. With writePID the lock holds "<pid>:<host>" and is
// closed; otherwise it stays open (Dotlock.f) for content that replaces path.
func acquireDotlock(path string, opt LockOptions, writePID bool) (*Dotlock, error) {
	lockPath := path + ".lock"
	release := processLock(lockPath)
	s := &lockState{path: path, lockPath: lockPath, opt: opt}
	start := opt.Now()
	deadline := start.Add(opt.Timeout)
	wait := lockWaitFirst
	mode := fileModeFor(filepath.Dir(path))
	for {
		now := opt.Now()
		try, err := s.check(now)
		if err != nil {
			release()
			return nil, err
		}
		if try {
			d, err := createLock(path, lockPath, mode, writePID)
			if err == nil {
				d.release = release
				return d, nil
			}
			if !errors.Is(err, fs.ErrExist) {
				release()
				return nil, err
			}
		}
		if opt.Timeout < 0 || !now.Before(deadline) {
			release()
			held := ""
			if s.holder != "" {
				held = fmt.Sprintf(" (held by %q)", s.holder)
			}
			return nil, fmt.Errorf("%w: waited %v for lock file %s%s: another Dovecot or mb2md process is working on this folder; wait for it to finish, or remove the lock file if no such process runs: %w",
				ErrLockTimeout, now.Sub(start).Round(time.Second), lockPath, held, fs.ErrExist)
		}
		opt.Sleep(wait)
		if wait < lockWaitMax {
			wait += wait / 2
		}
	}
}

func createLock(path, lockPath string, mode os.FileMode, writePID bool) (*Dotlock, error) {
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		return nil, pathErr("create lock", lockPath, err)
	}
	if err := chownLike(f, filepath.Dir(lockPath)); err != nil {
		f.Close()
		os.Remove(lockPath)
		return nil, err
	}
	if writePID {
		if _, err := fmt.Fprintf(f, "%d:%s", os.Getpid(), lockfile.Hostname()); err != nil {
			// Dovecot leaves the lock empty then
			_ = f.Truncate(0)
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		os.Remove(lockPath)
		return nil, pathErr("fstat", lockPath, err)
	}
	// the lock stays open while held (Dovecot closes a PID lock): its inode cannot be
	// reused, so the owner check below cannot be fooled by a new lock on the same inode
	return &Dotlock{path: path, lockPath: lockPath, dev: uint64(st.Dev), ino: uint64(st.Ino), f: f}, nil
}

// stillOurs reports whether the lock file is still the one we created.
func (d *Dotlock) stillOurs() error {
	var st unix.Stat_t
	if err := unix.Lstat(d.lockPath, &st); err != nil {
		if err == unix.ENOENT {
			return fmt.Errorf("our lock file %s was removed by another process (it took us longer than the stale timeout?); nothing was changed, run again", d.lockPath)
		}
		return pathErr("lstat", d.lockPath, err)
	}
	if uint64(st.Dev) != d.dev || uint64(st.Ino) != d.ino {
		return fmt.Errorf("our lock file %s was overridden by another process; nothing was changed, run again", d.lockPath)
	}
	return nil
}

// Unlock removes the lock file (if it is still ours). It is safe to call twice.
func (d *Dotlock) Unlock() error {
	if d == nil || d.done {
		return nil
	}
	d.done = true
	defer d.release()
	if d.f != nil {
		d.f.Close()
		d.f = nil
	}
	if err := d.stillOurs(); err != nil {
		return err
	}
	if err := os.Remove(d.lockPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return pathErr("remove lock", d.lockPath, err)
	}
	return nil
}

// replace writes content into the open lock file, syncs it and renames it over the
// protected file (Dovecot's file_dotlock_replace with owner check), then syncs the
// directory. minMtime, when not zero, is a lower bound for the new file's mtime.
func (d *Dotlock) replace(content []byte, minMtime time.Time) error {
	defer func() {
		if !d.done {
			d.done = true
			if d.f != nil {
				d.f.Close()
				d.f = nil
			}
			os.Remove(d.lockPath)
			d.release()
		}
	}()
	f := d.f
	if _, err := f.Write(content); err != nil {
		return pathErr("write", d.lockPath, err)
	}
	if !minMtime.IsZero() {
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err == nil && st.Mtim.Sec <= minMtime.Unix() {
			ts := []unix.Timespec{unix.NsecToTimespec(time.Now().UnixNano()), unix.NsecToTimespec(minMtime.Add(time.Second).Truncate(time.Second).UnixNano())}
			if err := unix.UtimesNanoAt(unix.AT_FDCWD, d.lockPath, ts, 0); err != nil {
				return pathErr("utimes", d.lockPath, err)
			}
		}
	}
	if err := f.Sync(); err != nil {
		return pathErr("fsync", d.lockPath, err)
	}
	if err := d.stillOurs(); err != nil {
		return err
	}
	if err := os.Rename(d.lockPath, d.path); err != nil {
		return pathErr("rename", d.lockPath, err)
	}
	d.done = true
	f.Close()
	d.f = nil
	d.release()
	return syncDir(filepath.Dir(d.path))
}

// fileModeFor returns the mode for files created in dir: its permission bits without x,
// as Dovecot derives file modes from the directory (0700 → 0600).
func fileModeFor(dir string) os.FileMode {
	fi, err := os.Stat(dir)
	if err != nil {
		return 0o600
	}
	return fi.Mode().Perm() & 0o666
}

// chownLike gives a new file the owner and group of dir when we run as root (a conversion
// run as root for a user's Maildir), so that the user's Dovecot can replace it.
func chownLike(f *os.File, dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return pathErr("stat", dir, err)
	}
	if st.Uid == 0 && st.Gid == 0 {
		return nil
	}
	if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil {
		return pathErr("chown", f.Name(), err)
	}
	return nil
}
