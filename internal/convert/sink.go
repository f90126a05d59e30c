package convert

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/source"
)

// Sink receives converted messages. The Maildir writer is one; a dry run records instead and
// never builds the writer (design rule 3).
type Sink interface {
	// Root prepares the destination root.
	Root(dir string) error
	// Folder prepares one folder (dir is the Maildir++ directory) and returns where its
	// messages go.
	Folder(dir string, isFolder bool) (FolderSink, error)
}

// FolderSink takes the messages of one mailbox. Has, Create and the Temp methods may be called
// from several goroutines; Close and Abort are called once, after every Temp is finished.
type FolderSink interface {
	// Claim and Hold take keys for the messages of this run (see maildir.Writer.Claim).
	Claim(key maildir.Key) (path string, st maildir.ClaimState)
	Hold(key maildir.Key)
	Create() (Temp, error)
	Close() error
	Abort()
}

// Temp is one message being written.
type Temp interface {
	Write(p []byte) (int, error)
	// WriteCounted is Write for content whose line feeds the caller counted (lf '\n' bytes
	// in p): the mbox reader counts them with its line numbers (see maildir.Temp).
	WriteCounted(p []byte, lf int64) (int, error)
	Size() int64
	VSize() int64 // the size with CRLF line ends (W=)
	Commit(key maildir.Key, mtime, atime time.Time, subdir, flags string) error
	Abort() error
	// Open reads back what was written so far (for comparing contents).
	Open() (io.ReadCloser, error)
}

// MaildirSink writes real Maildirs.
type MaildirSink struct {
	Options maildir.Options
}

// Root implements Sink.
func (s MaildirSink) Root(dir string) error { return maildir.Ensure(dir, false) }

// Folder implements Sink.
func (s MaildirSink) Folder(dir string, isFolder bool) (FolderSink, error) {
	if err := maildir.Ensure(dir, isFolder); err != nil {
		return nil, err
	}
	w, err := maildir.Open(dir, s.Options)
	if err != nil {
		return nil, err
	}
	return writerSink{w}, nil
}

type writerSink struct{ w *maildir.Writer }

func (s writerSink) Claim(key maildir.Key) (string, maildir.ClaimState) { return s.w.Claim(key) }
func (s writerSink) Hold(key maildir.Key)                               { s.w.Hold(key) }
func (s writerSink) Create() (Temp, error) {
	t, err := s.w.Create()
	if err != nil {
		return nil, err
	}
	return t, nil
}
func (s writerSink) Close() error { return s.w.Close() }
func (s writerSink) Abort()       { s.w.Abort() }

// openMailbox opens a mailbox's mbox for reading — or takes the already open (locked) file the
// plan carries, which it does not close — and checks that it is a regular file. It reads
// without changing the access time where the kernel allows it (O_NOATIME needs the file's
// owner or CAP_FOWNER), so that reading, and above all a dry run, leaves the source as it was.
func openMailbox(mb source.Mailbox) (f *os.File, st os.FileInfo, closeFn func(), err error) {
	closeFn = func() {}
	if f = mb.File; f == nil {
		// O_NONBLOCK: a FIFO put where an mbox was expected must not hang the run in open()
		// (mb2md 3.20's bug B17); it has no effect on regular files
		f, err = os.OpenFile(mb.Path, os.O_RDONLY|syscall.O_NOATIME|syscall.O_NONBLOCK, 0)
		if errors.Is(err, syscall.EPERM) {
			f, err = os.OpenFile(mb.Path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("open %s: %w; check that it exists and is readable", mb.Path, unwrap(err))
		}
		closeFn = func() { f.Close() }
	}
	if st, err = f.Stat(); err != nil {
		closeFn()
		return nil, nil, nil, fmt.Errorf("stat %s: %w", mb.Path, err)
	}
	if !st.Mode().IsRegular() {
		closeFn()
		return nil, nil, nil, fmt.Errorf("%s is not a regular file; only mbox files can be converted", mb.Path)
	}
	return f, st, closeFn, nil
}
