package maildir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// NameOptions selects how FolderDir spells folder names on disk.
type NameOptions struct {
	// UTF8 writes names as raw UTF-8 (for Dovecot's mail_location ":UTF-8"); a component that
	// is already modified UTF-7 is decoded, so the IMAP name is the same in both modes.
	UTF8 bool
	// Raw is mb2md 3.20's rule (--compat): bytes as given, no encoding, only '.' → '_'.
	Raw bool
	// LayoutFS is Dovecot's LAYOUT=fs: folders are nested directories ("lists/debian"), a
	// '.' in a name stays.
	LayoutFS bool
}

var sepReplacer = strings.NewReplacer(".", "_", "/", "_")

// FolderDir maps a folder path (components as IMAP names, e.g. []string{"lists", "debian"}) to
// the Maildir++ directory name under the root:
//
//   - "" for INBOX (any case) when it is the only component, and for no components at all.
//     This holds in Raw mode too: mb2md's ".INBOX" folder is hidden by Dovecot, which would
//     make its messages invisible;
//   - else "." + the components joined with ".". In each component '.' (the Maildir++
//     separator) and '/' become '_' (mb2md's rule); then it is encoded as modified UTF-7,
//     unless it already is valid modified UTF-7 (IsMUTF7), or opt.UTF8 (raw UTF-8, invalid
//     bytes taken as Latin-1), or opt.Raw (bytes as given).
//
// Empty components are skipped, as mb2md collapses runs of '/'.
func FolderDir(components []string, opt NameOptions) string {
	var parts []string
	for _, c := range components {
		if c != "" {
			parts = append(parts, c)
		}
	}
	if len(parts) == 0 || len(parts) == 1 && strings.EqualFold(parts[0], "INBOX") {
		return ""
	}
	var b strings.Builder
	for i, c := range parts {
		if !opt.LayoutFS {
			b.WriteByte('.')
			c = sepReplacer.Replace(c)
		} else if i > 0 {
			b.WriteByte('/')
		}
		switch {
		case opt.Raw:
		case opt.UTF8:
			if IsMUTF7(c) {
				c, _ = DecodeMUTF7(c)
			} else {
				c = latin1Fix(c)
			}
		default:
			if !IsMUTF7(c) {
				c = EncodeMUTF7(c)
			}
		}
		b.WriteString(c)
	}
	return b.String()
}

// latin1Fix returns s with every byte that is not part of valid UTF-8 replaced by the UTF-8
// spelling of the Latin-1 character of the same value (the rule of EncodeMUTF7).
func latin1Fix(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			r = rune(s[i])
		}
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// Ensure creates the Maildir dir and its tmp/, new/ and cur/ with mode 0700 where missing,
// and for a subfolder (isFolder) the empty "maildirfolder" marker file (mode 0600). Existing
// directories are reused. The parent of dir must exist (it is not created, like mb2md); an
// existing non-directory is an error naming the path. What it creates is made durable (the
// parent directories are fsynced).
func Ensure(dir string, isFolder bool) error {
	return EnsureOwned(dir, isFolder, -1, -1)
}

// EnsureOwned is Ensure, also giving whatever it creates to uid and gid (-1: unchanged).
// Existing directories keep their owner.
func EnsureOwned(dir string, isFolder bool, uid, gid int) error {
	dir = filepath.Clean(dir)
	created, err := mkdir(dir, uid, gid)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("create maildir %s: parent directory %s does not exist; create it first (the parent of the destination is not created)", dir, filepath.Dir(dir))
		}
		return err
	}
	if created {
		if err := syncDir(filepath.Dir(dir)); err != nil {
			return err
		}
	}
	changed := created
	for _, sub := range [...]string{"tmp", "new", "cur"} {
		c, err := mkdir(filepath.Join(dir, sub), uid, gid)
		if err != nil {
			return err
		}
		changed = changed || c
	}
	if isFolder {
		p := filepath.Join(dir, "maildirfolder")
		fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
		switch {
		case err == nil:
			changed = true
			if uid >= 0 || gid >= 0 {
				if err := unix.Fchown(fd, uid, gid); err != nil {
					_ = unix.Close(fd)
					return pathErr("change owner of", p, err)
				}
			}
			if err := unix.Close(fd); err != nil {
				return pathErr("close", p, err)
			}
		case errors.Is(err, unix.EEXIST):
			st, serr := os.Lstat(p)
			if serr != nil {
				return pathErr("stat", p, serr)
			}
			if !st.Mode().IsRegular() {
				return fmt.Errorf("%s exists but is not a regular file; remove or rename it and run again", p)
			}
		default:
			return pathErr("create", p, err)
		}
	}
	if changed {
		return syncDir(dir)
	}
	return nil
}

// mkdir creates p with mode 0700, reporting whether it did; an existing directory (or symlink
// to one) is fine.
func mkdir(p string, uid, gid int) (bool, error) {
	err := unix.Mkdir(p, 0o700)
	if err == nil {
		if uid >= 0 || gid >= 0 {
			if err := unix.Chown(p, uid, gid); err != nil {
				return true, pathErr("change owner of", p, err)
			}
		}
		return true, nil
	}
	switch {
	case errors.Is(err, unix.EEXIST):
		st, serr := os.Stat(p)
		if serr != nil {
			return false, pathErr("stat", p, serr)
		}
		if !st.IsDir() {
			return false, fmt.Errorf("%s exists but is not a directory; remove or rename it, or choose another destination, and run again", p)
		}
		return false, nil
	case errors.Is(err, unix.ENOTDIR):
		return false, fmt.Errorf("create directory %s: a parent of it is not a directory; choose another destination", p)
	}
	return false, pathErr("create directory", p, err)
}

// syncDir fsyncs a directory so that entries created in it survive a crash.
func syncDir(p string) error {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return pathErr("open directory", p, err)
	}
	err = unix.Fsync(fd)
	_ = unix.Close(fd)
	if err != nil && !errors.Is(err, unix.EINVAL) { // EINVAL: the file system cannot sync directories
		return pathErr("sync directory", p, err)
	}
	return nil
}
