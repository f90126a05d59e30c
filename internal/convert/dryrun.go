package convert

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mb2md/mb2md/internal/maildir"
)

// Delivery is one message as the writer would deliver it, as a DryRunSink sees it.
type Delivery struct {
	Dir    string      // the Maildir++ folder directory
	Key    maildir.Key // the key in the file name
	Name   string      // the file name the writer gives it (with ":2,<flags>" in cur/)
	Subdir string      // "new" or "cur"
	Info   string      // the flags (empty in new/)
	MTime  time.Time   // the file's mtime (and atime): the INTERNALDATE
	Size   int64       // bytes
	VSize  int64       // bytes with every bare LF counted as CRLF (W=)
	SHA256 [32]byte    // of the content
	Line   int64       // line of the message's From_ line in the source (0: unknown)
	// UID is the IMAP UID the conversion lists for the message in dovecot-uidlist (0:
	// none, as in --compat); UIDKept says it is the message's own X-UID. UIDValidity is the
	// source's X-IMAPbase UIDVALIDITY (0: the source has none).
	UID         uint32
	UIDKept     bool
	UIDValidity uint32
}

// DryRunSink is the Sink of a dry run (design rule 3): the Maildir writer is never built, and
// nothing is created, written, renamed or removed, neither in the destination nor in the
// source. It answers "is this message already there?" from a read-only scan of each existing
// destination folder (maildir.ScanKeys), and compares contents by streaming SHA-256, so the
// counts of Result (written, skipped_existing, bytes, new/cur, flags) are those a real run
// right after it produces. Message contents are hashed and counted, never kept.
type DryRunSink struct {
	// Fresh pretends every folder is empty and does not look at the destination at all: the
	// deliveries are then those of a first conversion (verify uses it to know what to expect).
	Fresh bool
	// OnFolder, when set, is called with the directory of every folder the run would create
	// or fill (also for empty ones).
	OnFolder func(dir string)
	// OnDelivery, when set, receives every message that would be written. Calls are
	// serialised, but may come from any goroutine and in any order within a folder.
	OnDelivery func(Delivery)
}

// Blind implements blindSink: a fresh dry run ignores earlier deliveries.
func (s DryRunSink) Blind() bool { return s.Fresh }

// Root implements Sink: it reports the errors maildir.Ensure would give, without creating
// anything.
func (s DryRunSink) Root(dir string) error {
	if s.Fresh {
		return nil
	}
	return checkMaildir(filepath.Clean(dir), false, true)
}

// Folder implements Sink.
func (s DryRunSink) Folder(dir string, isFolder bool) (FolderSink, error) {
	f := &dryFolder{dir: dir, s: s, found: map[maildir.Key]string{}, run: map[maildir.Key]bool{}}
	if !s.Fresh {
		if err := checkMaildir(filepath.Clean(dir), isFolder, false); err != nil {
			return nil, err
		}
		keys, err := maildir.ScanKeys(dir)
		if err != nil {
			return nil, err
		}
		f.found = keys
	}
	if s.OnFolder != nil {
		s.OnFolder(dir)
	}
	return f, nil
}

// checkMaildir predicts the failures of maildir.Ensure (and of writing into the folder) with
// the same wording, read-only.
func checkMaildir(dir string, isFolder, root bool) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		parent := filepath.Dir(dir)
		pst, perr := os.Stat(parent)
		if errors.Is(perr, fs.ErrNotExist) {
			if root {
				return fmt.Errorf("create maildir %s: parent directory %s does not exist; create it first (the parent of the destination is not created)", dir, parent)
			}
			return nil // the parent is the destination root, which Root checked
		}
		if perr != nil {
			return fmt.Errorf("create maildir %s: %w", dir, unwrap(perr))
		}
		if !pst.IsDir() {
			return fmt.Errorf("create directory %s: a parent of it is not a directory; choose another destination", dir)
		}
		return writable(parent)
	case err != nil:
		return fmt.Errorf("read maildir %s: %w", dir, unwrap(err))
	case !st.IsDir():
		return fmt.Errorf("%s exists but is not a directory; remove or rename it, or choose another destination, and run again", dir)
	}
	for _, sub := range [...]string{"tmp", "new", "cur"} {
		p := filepath.Join(dir, sub)
		st, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := writable(dir); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("read maildir %s: %w", p, unwrap(err))
		case !st.IsDir():
			return fmt.Errorf("%s exists but is not a directory; remove or rename it, or choose another destination, and run again", p)
		default:
			if err := writable(p); err != nil {
				return err
			}
		}
	}
	if isFolder {
		p := filepath.Join(dir, "maildirfolder")
		st, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return writable(dir)
		case err != nil:
			return fmt.Errorf("stat %s: %w", p, unwrap(err))
		case !st.Mode().IsRegular():
			return fmt.Errorf("%s exists but is not a regular file; remove or rename it and run again", p)
		}
	}
	return nil
}

// writable reports, read-only, a directory the run could not create entries in.
func writable(dir string) error {
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		if errors.Is(err, unix.EROFS) {
			return fmt.Errorf("write into %s: the file system is read-only; remount it read-write before converting", dir)
		}
		return fmt.Errorf("write into %s: %w; check the owner and permissions of the destination before converting", dir, err)
	}
	return nil
}

// dryFolder is the FolderSink of a dry run: it claims keys as maildir.Writer does.
type dryFolder struct {
	dir   string
	s     DryRunSink
	found map[maildir.Key]string // the files there ("new/NAME"): never changed
	mu    sync.Mutex
	run   map[maildir.Key]bool // keys of this run: claimed (false) or would be written (true)
}

func (f *dryFolder) Claim(key maildir.Key) (string, maildir.ClaimState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.run[key]; ok {
		return "", maildir.Taken
	}
	if rel, ok := f.found[key]; ok {
		return filepath.Join(f.dir, rel), maildir.Found
	}
	f.run[key] = false
	return "", maildir.Claimed
}

func (f *dryFolder) Hold(key maildir.Key) {
	f.mu.Lock()
	if _, ok := f.run[key]; !ok {
		f.run[key] = false
	}
	f.mu.Unlock()
}

func (f *dryFolder) Create() (Temp, error) { return &dryTemp{f: f, h: sha256.New()}, nil }
func (f *dryFolder) Close() error          { return nil }
func (f *dryFolder) Abort()                {}

// dryTemp counts and hashes a message instead of writing it.
type dryTemp struct {
	f     *dryFolder
	h     hash.Hash
	sizer maildir.Sizer
	src   sourceInfo
	done  bool
}

func (t *dryTemp) Write(p []byte) (int, error) {
	return t.WriteCounted(p, int64(bytes.Count(p, []byte{'\n'})))
}

func (t *dryTemp) WriteCounted(p []byte, lf int64) (int, error) {
	if t.done {
		return 0, errors.New("dry run: write after commit (internal error)")
	}
	if len(p) == 0 {
		return 0, nil
	}
	t.sizer.AddCounted(p, lf)
	t.h.Write(p)
	return len(p), nil
}

func (t *dryTemp) Size() int64  { return t.sizer.Size() }
func (t *dryTemp) VSize() int64 { return t.sizer.VSize() }

// NoteSource implements sourceNoter.
func (t *dryTemp) NoteSource(s sourceInfo) { t.src = s }

func (t *dryTemp) Commit(key maildir.Key, mtime, atime time.Time, subdir, flags string) error {
	if t.done {
		return errors.New("dry run: commit after commit (internal error)")
	}
	t.done = true
	switch {
	case subdir == "new" && flags != "":
		return fmt.Errorf("dry run: flags %q given for new/ (internal error)", flags)
	case subdir != "new" && subdir != "cur":
		return fmt.Errorf("dry run: subdirectory %q is neither new nor cur (internal error)", subdir)
	}
	f := t.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.found[key]; ok || f.run[key] {
		return maildir.ErrExists
	}
	f.run[key] = true
	if f.s.OnDelivery != nil {
		name := maildir.Name(key, mtime, t.sizer.Size(), t.sizer.VSize())
		if subdir == "cur" {
			name += ":2," + flags
		}
		d := Delivery{Dir: f.dir, Key: key, Name: name, Subdir: subdir, Info: flags, MTime: mtime,
			Size: t.sizer.Size(), VSize: t.sizer.VSize(), Line: t.src.line,
			UID: t.src.uid, UIDKept: t.src.uidKept, UIDValidity: t.src.uidValidity}
		t.h.Sum(d.SHA256[:0])
		f.s.OnDelivery(d)
	}
	return nil
}

func (t *dryTemp) Abort() error { t.done = true; return nil }

// Open implements Temp; a dry run keeps no content, comparisons go through SameFile.
func (t *dryTemp) Open() (io.ReadCloser, error) {
	return nil, errors.New("dry run: the message content is not kept (internal error)")
}

// SameFile implements contentComparer: it compares the file's size and SHA-256 with what was
// written so far, reading the file without changing its atime where the system allows.
func (t *dryTemp) SameFile(path string) (bool, error) {
	st, sum, err := FileSum(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("compare with %s: %w; check the permissions of the destination", path, err)
	}
	var want [32]byte
	t.h.Sum(want[:0])
	return st.Size() == t.sizer.Size() && sum == want, nil
}

// FileSum returns the stat and SHA-256 of a file, read with O_NOATIME where permitted.
func FileSum(path string) (os.FileInfo, [32]byte, error) {
	var sum [32]byte
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOATIME, 0)
	if errors.Is(err, unix.EPERM) {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, sum, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, sum, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, sum, err
	}
	h.Sum(sum[:0])
	return st, sum, nil
}

// sourceNoter is implemented by Temps that want to know where their message comes from;
// deliver tells them before Commit.
type sourceNoter interface{ NoteSource(sourceInfo) }

// sourceInfo is what the source says about a message beyond its content.
type sourceInfo struct {
	line        int64  // of the From_ line
	uid         uint32 // given in dovecot-uidlist
	uidKept     bool   // the message's own X-UID
	uidValidity uint32 // the source's X-IMAPbase UIDVALIDITY (0: none)
}

// contentComparer is implemented by Temps that keep no content (dry run): sameContent asks
// them instead of reading the content back.
type contentComparer interface {
	SameFile(path string) (bool, error)
}
