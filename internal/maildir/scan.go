package maildir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Entry is one file in new/ or cur/ of a Maildir folder, as ScanFolder lists it.
type Entry struct {
	Sub  string // "new" or "cur"
	Name string // base name, with the info part
	// Ours reports that the name was made by Name; Key is then its key.
	Ours bool
	Key  Key
	// Info is what follows ":2," in the name; HasInfo reports whether there is a ":2," at all.
	Info    string
	HasInfo bool
}

// Rel is the path of the entry relative to its folder ("cur/NAME").
func (e Entry) Rel() string { return e.Sub + "/" + e.Name }

// ParseName extracts the key from a file name made by Name, whatever its place, flags or extra
// ",X=" fields; ok is false for names of any other form (files not written by mb2md).
func ParseName(name string) (Key, bool) { return parseKey(name) }

// ScanKeys is the read-only scan of the Maildir folder dir that Open does: the keys of the files
// in new/ and cur/ named by Name, each mapped to "new/NAME" or "cur/NAME". It creates nothing,
// opens nothing for writing and changes no time stamp. A folder (or new/, cur/) that does not
// exist has no keys, which is not an error.
func ScanKeys(dir string) (map[Key]string, error) {
	keys := map[Key]string{}
	es, err := ScanFolder(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return keys, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.Ours {
			keys[e.Key] = e.Rel()
		}
	}
	return keys, nil
}

// ScanFolder lists the regular files (and anything else that is not a directory) in dir/new and
// dir/cur, read-only, in directory order. When dir itself does not exist the error wraps
// fs.ErrNotExist; a missing new/ or cur/ lists nothing. Names starting with "." are skipped, as
// Dovecot skips them.
func ScanFolder(dir string) ([]Entry, error) {
	st, err := os.Stat(dir)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("read maildir %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("read maildir %s: not a directory", dir)
	}
	var out []Entry
	for _, sub := range [...]string{"new", "cur"} {
		p := filepath.Join(dir, sub)
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, pathErr("read directory", p, err)
		}
		for {
			des, rerr := f.ReadDir(1024)
			for _, de := range des {
				n := de.Name()
				if strings.HasPrefix(n, ".") || de.IsDir() {
					continue
				}
				e := Entry{Sub: sub, Name: n}
				e.Key, e.Ours = parseKey(n)
				if i := strings.LastIndex(n, ":2,"); i >= 0 {
					e.Info, e.HasInfo = n[i+3:], true
				}
				out = append(out, e)
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				f.Close()
				return nil, pathErr("read directory", p, rerr)
			}
		}
		f.Close()
	}
	return out, nil
}
