package maildir

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SyncMode says how the Writer makes messages durable before they become visible.
type SyncMode int

const (
	// SyncBatch (the default) calls syncfs once per batch, before any file of the batch is
	// renamed into new/ or cur/, then fsyncs the directories.
	SyncBatch SyncMode = iota
	// SyncEach fsyncs every file when it is committed, then the directories per batch.
	SyncEach
	// SyncNone never syncs: for tests and benchmarks only.
	SyncNone
)

// String returns "batch", "each" or "none".
func (m SyncMode) String() string {
	switch m {
	case SyncBatch:
		return "batch"
	case SyncEach:
		return "each"
	case SyncNone:
		return "none"
	}
	return "SyncMode(" + strconv.Itoa(int(m)) + ")"
}

// Options configure a Writer.
type Options struct {
	Sync       SyncMode
	BatchFiles int   // messages per batch; <= 0: 256
	BatchBytes int64 // bytes per batch; <= 0: 64 MiB
	// UID and GID own the message files (-1, or the current effective ID: unchanged).
	UID, GID int
}

const (
	defaultBatchFiles = 256
	defaultBatchBytes = 64 << 20
)

// sysOps are the system calls of the write path; tests replace them to inject failures.
type sysOps struct {
	openat    func(dirfd int, path string, flags int, mode uint32) (int, error)
	write     func(fd int, p []byte) (int, error)
	futimens  func(fd int, ts *[2]unix.Timespec) error
	fchown    func(fd, uid, gid int) error
	fsync     func(fd int) error
	close     func(fd int) error
	syncfs    func(fd int) error
	renameat2 func(olddirfd int, oldpath string, newdirfd int, newpath string, flags uint) error
	linkat    func(olddirfd int, oldpath string, newdirfd int, newpath string, flags int) error
	flink     func(fd, newdirfd int, newpath string, viaProc bool) error
	unlinkat  func(dirfd int, path string, flags int) error
	dup       func(fd int) (int, error) // with close-on-exec
}

var realSys = sysOps{
	openat:    openatNoAlloc,
	write:     unix.Write,
	futimens:  futimens,
	fchown:    unix.Fchown,
	fsync:     unix.Fsync,
	close:     unix.Close,
	syncfs:    unix.Syncfs,
	renameat2: renameat2NoAlloc,
	linkat:    unix.Linkat,
	flink:     flinkNoAlloc,
	unlinkat:  unlinkatNoAlloc,
	dup:       func(fd int) (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) },
}

// futimens sets atime and mtime of an open file: utimensat(fd, NULL, ts, 0), one system call
// without a path lookup (x/sys's Futimes goes through /proc/self/fd).
func futimens(fd int, ts *[2]unix.Timespec) error {
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// Writer delivers messages into one Maildir folder: tmp/ → write → sync → move (never over
// an existing file) into new/ or cur/ → fsync of the directories. Its methods may be called
// from several goroutines (each Temp by one goroutine at a time); Abort must not run while
// a Temp method is running.
//
// Where the file system allows it, a temp file is an unnamed file on tmp/'s file system
// (O_TMPFILE) that linkat gives its final name: it never appears under a name of its own,
// vanishes by itself on an error or a crash, and the move is one link into one directory
// rather than a rename between two (a fifth less system time on tmpfs with two writers,
// where the rename locks both directories and the file system's rename lock). Elsewhere (NFS, older kernels) it is a named file in tmp/, renamed.
type Writer struct {
	dir                    string
	tmpDir, newDir, curDir string
	opt                    Options
	sys                    *sysOps
	tmpfd, newfd, curfd    int
	prefix                 string // temp file names: prefix + counter
	counter                atomic.Uint64
	chown                  bool

	// flushMu serializes flushes; it is taken without mu held. A flush runs its system
	// calls without holding mu, so that other goroutines go on writing meanwhile.
	flushMu sync.Mutex

	// found are the keys of the files in new/ and cur/ when Open scanned them (value: index
	// in foundNames, "new/NAME" or "cur/NAME"); never changed after Open (Close drops them),
	// so read without a lock. Maps without pointers, which the garbage collector skips.
	found      map[Key]int32
	foundNames []string

	// run are the keys of this run: claimed, or committed (queued or delivered); they have
	// locks of their own (see runKeys), apart from mu, taken after it when both are held
	run *runKeys

	mu          sync.Mutex
	queue       []queued
	queuedBytes int64
	// names holds the final names of the queued files (queued.final views into it); spare
	// and spareNames are the arrays of the last flush, reused for a later queue: a batch
	// of names takes no allocation per file
	names      []byte
	spare      []queued
	spareNames []byte
	live       *Temp       // list of the temps created, neither committed nor removed
	noReplace  bool        // renameat2 RENAME_NOREPLACE unsupported: link + unlink; guarded by flushMu
	closed     atomic.Bool // set under mu; Create reads it without

	tmpMode tmpMode // set by Open
}

// tmpMode is how the temp files of a Writer are made and moved into new/ or cur/.
type tmpMode uint8

const (
	tmpNamed    tmpMode = iota // a file named in tmp/, renamed (or linked and unlinked)
	tmpAnon                    // O_TMPFILE, named by linkat(fd, "", AT_EMPTY_PATH)
	tmpAnonProc                // O_TMPFILE, named by linkat of /proc/self/fd/N (Linux < 6.10 without CAP_DAC_READ_SEARCH)
)

// maxQueuedAnon bounds the batch of a Writer with unnamed temp files: each queued one keeps
// its descriptor open until it is linked.
const maxQueuedAnon = 256

type queued struct {
	tmp, final string // names in tmp/ (empty for an unnamed temp file) and in the subdir
	fd         int    // the unnamed temp file, open until it is linked (-1 for a named one)
	sub        int    // subdir fd
	key        Key
}

// Open prepares writing into the Maildir folder dir, which must exist with tmp/, new/ and cur/
// (see Ensure). It scans new/ and cur/ once and remembers the keys of the files named by
// Name, so that a re-run skips messages already delivered.
func Open(dir string, opt Options) (*Writer, error) {
	if opt.BatchFiles <= 0 {
		opt.BatchFiles = defaultBatchFiles
	}
	if opt.BatchBytes <= 0 {
		opt.BatchBytes = defaultBatchBytes
	}
	w := &Writer{
		dir: dir, tmpDir: filepath.Join(dir, "tmp"), newDir: filepath.Join(dir, "new"), curDir: filepath.Join(dir, "cur"),
		opt: opt, sys: &realSys, tmpfd: -1, newfd: -1, curfd: -1,
	}
	w.chown = opt.UID >= 0 && opt.UID != os.Geteuid() || opt.GID >= 0 && opt.GID != os.Getegid()
	for _, d := range []struct {
		fd   *int
		path string
	}{{&w.tmpfd, w.tmpDir}, {&w.newfd, w.newDir}, {&w.curfd, w.curDir}} {
		fd, err := unix.Open(d.path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			w.closeFDs()
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
				return nil, fmt.Errorf("open maildir %s: %s is missing or not a directory; %s is not a complete maildir, create it (with tmp/, new/ and cur/) first", dir, d.path, dir)
			}
			return nil, pathErr("open maildir directory", d.path, err)
		}
		*d.fd = fd
	}
	// the same scan as a dry run's (ScanKeys), so that its prediction holds
	entries, err := ScanFolder(dir)
	if err != nil {
		w.closeFDs()
		return nil, err
	}
	w.found, w.run = map[Key]int32{}, newRunKeys()
	for _, e := range entries {
		if e.Ours {
			w.found[e.Key] = int32(len(w.foundNames))
			w.foundNames = append(w.foundNames, e.Rel())
		}
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // never fails on Linux; uniqueness also rests on O_EXCL
	w.prefix = "mb2md." + strconv.Itoa(os.Getpid()) + "." + hex.EncodeToString(rnd[:]) + "."
	w.tmpMode = w.probeTmpMode()
	if w.tmpMode != tmpNamed {
		w.opt.BatchFiles = min(w.opt.BatchFiles, maxQueuedAnon)
	}
	return w, nil
}

// probeTmpMode finds out whether unnamed temp files can be made in tmp/ and given a name:
// it makes one and links it into tmp/ under a name that it removes again at once.
func (w *Writer) probeTmpMode() tmpMode {
	fd, err := w.sys.openat(w.tmpfd, ".", unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return tmpNamed // EOPNOTSUPP, EISDIR (Linux < 3.11), ...: named temp files
	}
	defer func() { _ = w.sys.close(fd) }()
	name := w.prefix + "probe"
	for _, m := range []tmpMode{tmpAnon, tmpAnonProc} {
		if w.sys.flink(fd, w.tmpfd, name, m == tmpAnonProc) == nil {
			_ = w.sys.unlinkat(w.tmpfd, name, 0)
			return m
		}
	}
	return tmpNamed
}

// keyState is what a key is to this run.
type keyState uint8

const (
	keyClaimed   keyState = 1              // by a message (see Claim, Hold)
	keyCommitted keyState = keyClaimed | 2 // a file with it is queued or delivered (claimed too)
)

// ClaimState is the answer of Claim.
type ClaimState int

const (
	// Claimed: the key is now the message's.
	Claimed ClaimState = iota
	// Taken: an earlier message of this run has the key; try the next one.
	Taken
	// Found: a file with that key was in new/ or cur/ when the writer was opened (the path
	// is returned). Compare its content: the same content is the message, delivered before
	// (call Hold); another content is a fingerprint collision (try the next key).
	Found
)

// Claim takes a key for a message of this run, so that messages with the same content get
// distinct keys (N = 0, 1, ...) and a message delivered by an earlier run is recognised. One
// map holds the keys of the run, claimed and committed; Commit refuses a key committed
// before or found at Open.
func (w *Writer) Claim(key Key) (path string, st ClaimState) {
	i, found := w.found[key]
	switch {
	case w.run.claim(key, found):
		return "", Taken
	case found:
		return filepath.Join(w.dir, w.foundNames[i]), Found
	}
	return "", Claimed
}

// Hold takes a key that Claim reported Found, once the existing file proved to be the
// message: later messages of this run with the same content get the next key.
func (w *Writer) Hold(key Key) {
	w.run.hold(key)
}

// Has reports whether a message with that key was in new/ or cur/ when the writer was
// opened, or was committed in this run.
func (w *Writer) Has(key Key) bool {
	if _, ok := w.found[key]; ok {
		return true
	}
	return w.run.state(key) == keyCommitted
}

// Temp is a message being written into tmp/. Finish it with Commit or Abort.
type Temp struct {
	w     *Writer
	fd    int
	name  string
	sizer Sizer
	times [2]unix.Timespec // atime, mtime (see Commit)
	done  bool
	err   error // why the temp file was removed

	prev, next *Temp // in the writer's list of live temps
}

// Create makes a new temp file, mode 0600: unnamed (O_TMPFILE) in tmp/ where the file system
// allows it, otherwise in tmp/ with O_EXCL and a unique name from the pid, a random part and
// a counter.
func (w *Writer) Create() (*Temp, error) {
	if w.closed.Load() {
		return nil, fmt.Errorf("create a temp file in %s: the writer is already closed (internal error)", w.tmpDir)
	}
	var name string
	var fd int
	for attempt := 0; w.tmpMode != tmpNamed; attempt++ {
		var err error
		fd, err = w.sys.openat(w.tmpfd, ".", unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, 0o600)
		if err == nil {
			break
		}
		if errors.Is(err, unix.EINTR) && attempt < 16 {
			continue
		}
		return nil, pathErr("create temp file", w.tmpDir+" (unnamed temp file)", err)
	}
	for attempt := 0; w.tmpMode == tmpNamed; attempt++ {
		var nb [96]byte
		name = string(strconv.AppendUint(append(nb[:0], w.prefix...), w.counter.Add(1), 10))
		var err error
		fd, err = w.sys.openat(w.tmpfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
		if err == nil {
			break
		}
		if (errors.Is(err, unix.EEXIST) && attempt < 16) || errors.Is(err, unix.EINTR) {
			continue
		}
		return nil, pathErr("create temp file", filepath.Join(w.tmpDir, name), err)
	}
	t := &Temp{w: w, fd: fd, name: name}
	w.mu.Lock()
	if w.closed.Load() {
		// closed meanwhile (a caller's error): the file was made for nothing
		w.mu.Unlock()
		_ = w.sys.close(fd)
		if name != "" {
			_ = w.unlinkTemp(name)
		}
		return nil, fmt.Errorf("create a temp file in %s: the writer is already closed (internal error)", w.tmpDir)
	}
	w.addLive(t)
	w.mu.Unlock()
	if w.chown {
		if err := w.sys.fchown(fd, w.opt.UID, w.opt.GID); err != nil {
			return nil, t.fail("change owner of", err)
		}
	}
	return t, nil
}

// addLive and dropLive keep the list of live temps; w.mu is held.
func (w *Writer) addLive(t *Temp) {
	t.next = w.live
	if w.live != nil {
		w.live.prev = t
	}
	w.live = t
}

func (w *Writer) dropLive(t *Temp) {
	switch {
	case t.prev != nil:
		t.prev.next = t.next
	case w.live == t:
		w.live = t.next
	default:
		return // not in the list
	}
	if t.next != nil {
		t.next.prev = t.prev
	}
	t.prev, t.next = nil, nil
}

// path names the temp file in messages.
func (t *Temp) path() string {
	if t.name == "" {
		return t.w.tmpDir + " (unnamed temp file)"
	}
	return filepath.Join(t.w.tmpDir, t.name)
}

// Size is the number of bytes written so far.
func (t *Temp) Size() int64 { return t.sizer.Size() }

// Open returns a reader of what was written so far, for comparing a large message with an
// existing file.
func (t *Temp) Open() (io.ReadCloser, error) {
	if t.done {
		return nil, t.finished()
	}
	if t.name == "" {
		// a second descriptor, read with pread: the write offset stays where it is
		fd, err := t.w.sys.dup(t.fd)
		if err != nil {
			return nil, pathErr("read back", t.path(), err)
		}
		f := os.NewFile(uintptr(fd), t.path())
		return struct {
			io.Reader
			io.Closer
		}{io.NewSectionReader(f, 0, t.sizer.Size()), f}, nil
	}
	f, err := os.Open(t.path())
	if err != nil {
		return nil, pathErr("read back", t.path(), err)
	}
	return f, nil
}

// VSize is the size with every LF not preceded by CR counted as CRLF (Dovecot's W=).
func (t *Temp) VSize() int64 { return t.sizer.VSize() }

// Write appends p to the message with write(2), unbuffered: callers hand over whole
// messages or large pieces (a small message is one write). On an error the temp file is
// removed and every later call returns the same error.
func (t *Temp) Write(p []byte) (int, error) {
	return t.WriteCounted(p, int64(bytes.Count(p, []byte{'\n'})))
}

// WriteCounted is Write for content whose line feeds the caller has counted already (the
// mbox reader counts them with its line numbers): lf must be the number of '\n' bytes in p,
// as W= depends on it.
func (t *Temp) WriteCounted(p []byte, lf int64) (int, error) {
	if t.done {
		return 0, t.finished()
	}
	if len(p) == 0 {
		return 0, nil
	}
	t.sizer.AddCounted(p, lf)
	if err := t.writeAll(p); err != nil {
		return 0, t.fail("write", err)
	}
	return len(p), nil
}

func (t *Temp) writeAll(p []byte) error {
	for len(p) > 0 {
		n, err := t.w.sys.write(t.fd, p)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return io.ErrShortWrite
		}
		p = p[n:]
	}
	return nil
}

// fail removes the temp file after an error of op and returns the error for the user.
func (t *Temp) fail(op string, err error) error {
	t.err = pathErr(op, t.path(), err)
	t.remove()
	return t.err
}

// remove closes and deletes the temp file; it is then done.
func (t *Temp) remove() error {
	w := t.w
	if t.fd >= 0 {
		_ = w.sys.close(t.fd)
		t.fd = -1
	}
	t.done = true
	var err error
	if t.name != "" {
		err = w.unlinkTemp(t.name)
	}
	w.mu.Lock()
	w.dropLive(t)
	w.mu.Unlock()
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return pathErr("remove temp file", t.path(), err)
	}
	return nil
}

func (t *Temp) finished() error {
	if t.err != nil {
		return t.err
	}
	return fmt.Errorf("temp file %s was already committed or aborted (internal error)", t.path())
}

// Abort removes the temp file. It does nothing for a Temp already committed or removed.
func (t *Temp) Abort() error {
	if t.done {
		return nil
	}
	return t.remove()
}

// validFlags accepts Maildir info flags: ASCII letters (DFPRST and keyword letters a-z).
func validFlags(f string) bool {
	for i := 0; i < len(f); i++ {
		c := f[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// Commit sets the file's atime and mtime, closes a named one (checking the close error; an
// unnamed one stays open until it is linked) and queues it for delivery as
// <subdir>/<Name(key, size, vsize)>, with ":2,<flags>" appended in "cur" (a message in
// "new" has no info, so flags must be empty). If the key is already present,
// the temp file is removed and ErrExists returned. On any error the temp file is removed.
// When the batch limits are reached Commit flushes, and returns Flush's error.
func (t *Temp) Commit(key Key, mtime, atime time.Time, subdir string, flags string) error {
	if t.done {
		return t.finished()
	}
	w := t.w
	var sub int
	switch subdir {
	case "new":
		if flags != "" {
			_ = t.remove()
			return fmt.Errorf("commit %s: flags %q given for new/, where messages have no flags (internal error)", t.path(), flags)
		}
		sub = w.newfd
	case "cur":
		if !validFlags(flags) {
			_ = t.remove()
			return fmt.Errorf("commit %s: invalid maildir flags %q (internal error)", t.path(), flags)
		}
		sub = w.curfd
	default:
		_ = t.remove()
		return fmt.Errorf("commit %s: subdirectory %q is neither new nor cur (internal error)", t.path(), subdir)
	}
	// in t, which is on the heap anyway: a local would escape through w.sys
	t.times = [2]unix.Timespec{
		{Sec: atime.Unix(), Nsec: int64(atime.Nanosecond())},
		{Sec: mtime.Unix(), Nsec: int64(mtime.Nanosecond())},
	}
	if err := w.sys.futimens(t.fd, &t.times); err != nil {
		return t.fail("set the times of", err)
	}
	if w.opt.Sync == SyncEach {
		if err := w.sys.fsync(t.fd); err != nil {
			return t.fail("sync", err)
		}
	}
	q := queued{tmp: t.name, fd: t.fd, sub: sub, key: key}
	if t.name != "" {
		q.fd = -1
		if err := w.sys.close(t.fd); err != nil {
			t.fd = -1
			return t.fail("close", err)
		}
	}
	t.fd = -1
	var nb [maxFinalName]byte
	final := appendFinalName(nb[:0], key, mtime, t.sizer.Size(), t.sizer.VSize(), subdir == "cur", flags)
	t.done = true

	_, dup := w.found[key]
	closed := false
	if !dup {
		dup, closed = w.run.commit(key)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	w.dropLive(t)
	if dup || closed || w.closed.Load() {
		w.dropQueued(q)
		if dup {
			return ErrExists
		}
		return fmt.Errorf("commit %s: the writer is already closed (internal error)", t.path())
	}
	// the name goes into names, which the queue's strings view: names is handed on with the
	// queue and rewritten only after the flush that used them (see flushLocked)
	start := len(w.names)
	w.names = append(w.names, final...)
	q.final = unsafe.String(&w.names[start], len(final))
	w.queue = append(w.queue, q)
	w.queuedBytes += t.sizer.Size()
	if len(w.queue) >= w.opt.BatchFiles || w.queuedBytes >= w.opt.BatchBytes {
		if _, err := w.flushLocked(); err != nil {
			return err
		}
	}
	return nil
}

// Flush makes all queued messages durable, then visible: (SyncBatch) syncfs on tmp/, or the
// per-file fsync done by Commit (SyncEach); then it links each unnamed temp file, or renames
// each named one, into new/ or cur/, never replacing an existing file (linkat, renameat2
// RENAME_NOREPLACE, or link + unlink where the file system lacks it); then it fsyncs new/,
// cur/ and (for named temp files) tmp/. It returns the number of files delivered. On an
// error the messages not yet delivered are removed (and forgotten, so Has reports them
// absent). A name already taken in new/ or cur/ keeps the existing file,
// removes the new copy and gives an error wrapping ErrNameTaken after the other messages were
// delivered.
func (w *Writer) Flush() (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed.Load() {
		return 0, nil
	}
	return w.flushLocked()
}

// flushLocked delivers the queue. It is called with w.mu held and returns with it held, but
// releases it while it makes system calls.
func (w *Writer) flushLocked() (int, error) {
	q, names := w.queue, w.names
	if len(q) == 0 {
		return 0, nil
	}
	// q is used without the lock: the next queue gets other arrays, the spare ones of the
	// last flush if they are there (handed out once: spare is cleared)
	w.queue, w.names = w.spare[:0], w.spareNames[:0]
	w.spare, w.spareNames = nil, nil
	w.queuedBytes = 0
	w.mu.Unlock()
	w.flushMu.Lock()
	n, err := w.flushQueue(q)
	w.flushMu.Unlock()
	w.mu.Lock()
	// nothing refers to q's entries or their names any more: reuse the arrays
	clear(q)
	w.spare, w.spareNames = q[:0], names[:0]
	return n, err
}

// flushQueue delivers the queued files q; flushMu is held, mu is not.
func (w *Writer) flushQueue(q []queued) (int, error) {
	if w.opt.Sync == SyncBatch {
		if err := w.syncBatch(q); err != nil {
			w.discard(q)
			return 0, err
		}
	}
	delivered := 0
	var firstErr error
	var touched [2]bool // new, cur
	for i, e := range q {
		err := w.deliver(e)
		if err == nil || errors.Is(err, errLinkedNotUnlinked) {
			if e.fd >= 0 {
				// linked, and durable before: a close error changes nothing
				_ = w.sys.close(e.fd)
			}
			delivered++
			touched[btoi(e.sub == w.curfd)] = true
			if err != nil && firstErr == nil {
				firstErr = err
			}
			continue
		}
		if errors.Is(err, ErrNameTaken) {
			w.dropQueued(e)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		w.discard(q[i:])
		if firstErr == nil || errors.Is(firstErr, ErrNameTaken) {
			firstErr = err
		}
		break
	}
	if w.opt.Sync != SyncNone {
		dirs := []struct {
			do   bool
			fd   int
			path string
		}{{touched[0], w.newfd, w.newDir}, {touched[1], w.curfd, w.curDir}, {w.tmpMode == tmpNamed, w.tmpfd, w.tmpDir}}
		for _, d := range dirs {
			if !d.do {
				continue
			}
			if err := w.sys.fsync(d.fd); err != nil && !errors.Is(err, unix.EINVAL) && firstErr == nil {
				firstErr = pathErr("sync directory", d.path, err)
			}
		}
	}
	return delivered, firstErr
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// syncBatch makes the data of the queued temp files durable: syncfs on tmp/, or, where the file
// system does not implement it, fsync of each file.
func (w *Writer) syncBatch(q []queued) error {
	err := w.sys.syncfs(w.tmpfd)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EOPNOTSUPP) {
		return pathErr("sync the file system of", w.tmpDir, err)
	}
	for _, e := range q {
		if e.fd >= 0 {
			if err := w.sys.fsync(e.fd); err != nil {
				return pathErr("sync", w.tmpDir+" (unnamed temp file)", err)
			}
			continue
		}
		p := filepath.Join(w.tmpDir, e.tmp)
		fd, err := w.sys.openat(w.tmpfd, e.tmp, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != nil {
			return pathErr("open", p, err)
		}
		err = w.sys.fsync(fd)
		_ = w.sys.close(fd)
		if err != nil {
			return pathErr("sync", p, err)
		}
	}
	return nil
}

var errLinkedNotUnlinked = errors.New("delivered, but the temp file could not be removed")

// deliver moves one temp file into its subdir without replacing anything. Errors: ErrNameTaken
// (wrapped) when the name is taken; errLinkedNotUnlinked (wrapped) when the message was
// delivered by link but its temp name remains. An unnamed temp file stays open: the caller
// closes it.
func (w *Writer) deliver(e queued) error {
	// the paths are for error messages only: built when needed
	src := func() string { return filepath.Join(w.tmpDir, e.tmp) }
	dst := func() string { return filepath.Join(w.subPath(e.sub), e.final) }
	if e.fd >= 0 {
		err := w.sys.flink(e.fd, e.sub, e.final, w.tmpMode == tmpAnonProc)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EEXIST):
			return takenErr(w.tmpDir+" (unnamed temp file)", dst())
		}
		return fmt.Errorf("link %s (unnamed temp file) to %s: %w; %s", w.tmpDir, dst(), err, hint(err))
	}
	if !w.noReplace {
		err := w.sys.renameat2(w.tmpfd, e.tmp, e.sub, e.final, unix.RENAME_NOREPLACE)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EEXIST):
			return takenErr(src(), dst())
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
			w.noReplace = true // fall back to link + unlink for this and later files
		default:
			return fmt.Errorf("rename %s to %s: %w; %s", src(), dst(), err, hint(err))
		}
	}
	if err := w.sys.linkat(w.tmpfd, e.tmp, e.sub, e.final, 0); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return takenErr(src(), dst())
		}
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("link %s to %s: %w; the destination file system supports neither rename without replace nor hard links, so messages cannot be delivered safely; use another file system"+rerun, src(), dst(), err)
		}
		return fmt.Errorf("link %s to %s: %w; %s", src(), dst(), err, hint(err))
	}
	if err := w.unlinkTemp(e.tmp); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %s after linking it to %s: %w: %w; remove it by hand", src(), dst(), errLinkedNotUnlinked, err)
	}
	return nil
}

func takenErr(src, dst string) error {
	return fmt.Errorf("deliver %s as %s: %w: a file of that name is already there; it was kept and the new copy removed. Another program is writing into this maildir: run only one conversion per destination, then run again"+rerun, src, dst, ErrNameTaken)
}

func (w *Writer) subPath(fd int) string {
	if fd == w.newfd {
		return w.newDir
	}
	return w.curDir
}

// unlinkTemp removes the named temp file name: through tmp/'s descriptor, or by its path once
// the writer has closed that (a Temp finished around Close is a caller's error, but even then
// nothing is left in tmp/).
func (w *Writer) unlinkTemp(name string) error {
	if w.tmpfd >= 0 {
		return w.sys.unlinkat(w.tmpfd, name, 0)
	}
	return w.sys.unlinkat(unix.AT_FDCWD, filepath.Join(w.tmpDir, name), 0)
}

// dropQueued removes a queued temp file that will not be delivered: it closes an unnamed
// one (which makes it vanish) and unlinks a named one.
func (w *Writer) dropQueued(e queued) {
	if e.fd >= 0 {
		_ = w.sys.close(e.fd)
		return
	}
	_ = w.unlinkTemp(e.tmp)
}

// discard removes queued temp files that will not be delivered and forgets their keys
// (w.mu may be held).
func (w *Writer) discard(q []queued) {
	for _, e := range q {
		w.dropQueued(e)
	}
	for _, e := range q {
		w.run.forget(e.key)
	}
}

// Close flushes the queue and releases the Writer. Temp files neither committed nor aborted
// are removed (and reported as an error).
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed.Load() {
		return nil
	}
	_, err := w.flushLocked()
	w.waitFlushes()
	defer w.flushMu.Unlock()
	if n := w.removeLive(); n > 0 && err == nil {
		err = fmt.Errorf("close maildir %s: %d temp files were neither committed nor aborted and have been removed (internal error)", w.dir, n)
	}
	w.closed.Store(true)
	w.closeFDs()
	// a closed writer is asked nothing more (Close comes after every Lookup): free the memory
	w.run.drop()
	w.found, w.foundNames = nil, nil
	return err
}

// Abort removes every temp file not yet delivered, queued or still open (Ctrl-C or error
// path) and releases the Writer: delivered messages stay, nothing partial is left in tmp/,
// new/ or cur/. It must not run concurrently with a method of a Temp.
func (w *Writer) Abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed.Load() {
		return
	}
	w.waitFlushes()
	defer w.flushMu.Unlock()
	w.removeLive()
	w.discard(w.queue)
	w.queue = nil
	w.queuedBytes = 0
	w.closed.Store(true)
	w.closeFDs()
}

// waitFlushes waits until no flush of another goroutine is running (there should be none:
// Close and Abort run after every Temp is finished) and keeps others from starting: it
// returns with flushMu held, to be released by the caller. w.mu is held.
func (w *Writer) waitFlushes() {
	w.mu.Unlock()
	w.flushMu.Lock()
	w.mu.Lock()
}

// removeLive removes the temp files still open; w.mu is held.
func (w *Writer) removeLive() int {
	n := 0
	for w.live != nil {
		t := w.live
		w.dropLive(t)
		if t.fd >= 0 {
			_ = w.sys.close(t.fd)
			t.fd = -1
		}
		if t.name != "" {
			_ = w.unlinkTemp(t.name)
		}
		t.done = true
		t.err = fmt.Errorf("temp file %s was removed when the maildir writer was closed", t.path())
		n++
	}
	return n
}

func (w *Writer) closeFDs() {
	for _, fd := range []*int{&w.tmpfd, &w.newfd, &w.curfd} {
		if *fd >= 0 {
			_ = unix.Close(*fd)
			*fd = -1
		}
	}
}
