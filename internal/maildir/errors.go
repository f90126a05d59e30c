package maildir

import (
	"errors"
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"
)

// ErrExists is returned by Commit when a message with the same key is already in the Maildir
// (or committed in this run): nothing was written for it.
var ErrExists = errors.New("message already in the maildir")

// ErrNameTaken is wrapped by the error of Flush (or of a Commit that flushed) when a final file
// name appeared in new/ or cur/ after Open, i.e. another program writes into the same Maildir.
// The existing file is kept, the new copy removed; the other messages are delivered.
var ErrNameTaken = errors.New("file name already taken")

// rerun is appended to every hint: a re-run is always safe.
const rerun = " (messages already delivered are kept and will be skipped)"

// hint says what the user can do about err.
func hint(err error) string {
	var h string
	switch {
	case errors.Is(err, unix.ENOSPC):
		h = "free space on the destination file system and run again"
	case errors.Is(err, unix.EDQUOT):
		h = "the disk quota is exceeded; raise the quota or free space and run again"
	case errors.Is(err, unix.EFBIG):
		h = "the message is larger than the file size limit (ulimit -f) or what the destination file system allows; raise the limit and run again"
	case errors.Is(err, unix.EIO):
		h = "the destination storage reported an I/O error; check the disk and the kernel log (dmesg) and run again"
	case errors.Is(err, unix.EROFS):
		h = "the destination file system is read-only; remount it read-write and run again"
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		h = "check the owner and permissions of the destination and run again"
	case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE):
		h = "too many open files; raise the limit (ulimit -n) and run again"
	default:
		h = "fix the cause and run again"
	}
	return h + rerun
}

// pathErr formats "<op> <path>: <err>; <hint>", wrapping err.
func pathErr(op, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is named once
	}
	return fmt.Errorf("%s %s: %w; %s", op, path, err, hint(err))
}
