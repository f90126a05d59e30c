package users

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mb2md/mb2md/internal/maildir"
)

// SkelOptions tune Skel.
type SkelOptions struct {
	// Chown gives everything created to UID:GID (needs root). Without it the caller owns it.
	Chown    bool
	UID, GID int
	// NoSubscriptions leaves the Dovecot subscriptions file out.
	NoSubscriptions bool
}

// Skel makes dir an empty Maildir (tmp, new, cur; directories 0700) with Maildir++ folders: a
// folder "Sent" is dir/.Sent, "Archive/2022" is dir/.Archive.2022, each with tmp/new/cur and an
// empty maildirfolder file (0600); names outside ASCII are stored in modified UTF-7. Unless
// NoSubscriptions, a Dovecot subscriptions file (version 2: "V\t2\n\n", then one mailbox per
// line, hierarchy levels separated by a TAB) subscribes the folders; an existing subscriptions
// file keeps its entries and gains the missing ones. The parent of dir must exist. Skel may be
// run again on its own result; it never follows a symbolic link and refuses when a part of the
// tree is one or is not a directory.
func Skel(dir string, folders []string, opt SkelOptions) error {
	if fi, err := os.Lstat(filepath.Dir(filepath.Clean(dir))); err != nil {
		return fmt.Errorf("skel %s: parent directory: %w; create it first", dir, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("skel %s: parent %s is not a directory", dir, filepath.Dir(dir))
	}
	type folder struct{ dir, sub string }
	var fl []folder
	seen := map[string]bool{}
	for _, f := range folders {
		d, sub, err := folderNames(f)
		if err != nil {
			return fmt.Errorf("skel %s: %w", dir, err)
		}
		if !seen[d] {
			seen[d] = true
			fl = append(fl, folder{d, sub})
		}
	}
	if err := makeMaildir(dir, opt); err != nil {
		return err
	}
	for _, f := range fl {
		p := filepath.Join(dir, f.dir)
		if err := makeMaildir(p, opt); err != nil {
			return err
		}
		if err := writeNew(filepath.Join(p, "maildirfolder"), nil, opt); err != nil {
			return err
		}
	}
	if !opt.NoSubscriptions && len(fl) > 0 {
		var subs []string
		for _, f := range fl {
			subs = append(subs, f.sub)
		}
		if err := subscribe(filepath.Join(dir, "subscriptions"), subs, opt); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// folderNames turns "Archive/2022" into ".Archive.2022" and "Archive\t2022".
func folderNames(name string) (dir, sub string, err error) {
	parts := strings.Split(name, "/")
	var enc []string
	for _, p := range parts {
		switch {
		case p == "" || p == "." || p == "..":
			return "", "", fmt.Errorf("bad folder name %q: empty, . or .. level", name)
		case strings.ContainsAny(p, ".\t\r\n\x00"):
			return "", "", fmt.Errorf("bad folder name %q: a level may not hold '.', tabs or newlines (use / between levels)", name)
		}
		enc = append(enc, maildir.EncodeMUTF7(p))
	}
	if strings.EqualFold(parts[0], "INBOX") && len(parts) == 1 {
		return "", "", fmt.Errorf("bad folder name %q: INBOX is the Maildir itself", name)
	}
	return "." + strings.Join(enc, "."), strings.Join(enc, "\t"), nil
}

func makeMaildir(dir string, opt SkelOptions) error {
	for _, d := range []string{dir, filepath.Join(dir, "tmp"), filepath.Join(dir, "new"), filepath.Join(dir, "cur")} {
		if err := mkdir0700(d, opt); err != nil {
			return err
		}
	}
	return nil
}

func mkdir0700(d string, opt SkelOptions) error {
	err := os.Mkdir(d, 0o700)
	created := err == nil
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("skel: %w", err)
	}
	fi, err := os.Lstat(d)
	if err != nil {
		return fmt.Errorf("skel: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("skel: %s exists and is not a directory (%s); move it away first", d, fi.Mode().Type())
	}
	if !created {
		return nil
	}
	if err := os.Chmod(d, 0o700); err != nil { // whatever the umask
		return fmt.Errorf("skel: %w", err)
	}
	if opt.Chown {
		if err := os.Lchown(d, opt.UID, opt.GID); err != nil {
			return fmt.Errorf("skel: %w", err)
		}
	}
	return nil
}

// writeNew creates path 0600 with data unless it exists (a regular file is left as it is).
func writeNew(path string, data []byte, opt SkelOptions) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|nofollow, 0o600)
	if errors.Is(err, fs.ErrExist) {
		fi, err := os.Lstat(path)
		if err != nil {
			return fmt.Errorf("skel: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("skel: %s exists and is not a regular file; move it away first", path)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("skel: %w", err)
	}
	return finish(f, data, opt)
}

func finish(f *os.File, data []byte, opt SkelOptions) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil && opt.Chown {
		err = f.Chown(opt.UID, opt.GID)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("skel: write %s: %w", f.Name(), err)
	}
	return nil
}

// subscribe writes the v2 subscriptions file with the existing entries plus subs.
func subscribe(path string, subs []string, opt SkelOptions) error {
	var names []string
	have := map[string]bool{}
	if fi, err := os.Lstat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("skel: %s exists and is not a regular file; move it away first", path)
		}
		old, err := readSubscriptions(path)
		if err != nil {
			return err
		}
		for _, n := range old {
			if !have[n] {
				have[n] = true
				names = append(names, n)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("skel: %w", err)
	}
	added := false
	for _, n := range subs {
		if !have[n] {
			have[n] = true
			names = append(names, n)
			added = true
		}
	}
	if !added && len(have) > 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("V\t2\n\n")
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte('\n')
	}
	tmp := filepath.Join(filepath.Dir(path), ".subscriptions.tmp")
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|nofollow, 0o600)
	if err != nil {
		return fmt.Errorf("skel: %w", err)
	}
	if err := finish(f, []byte(b.String()), opt); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("skel: %w", err)
	}
	return nil
}

// readSubscriptions reads a v2 file (TAB-separated levels) or a v1 file (one Maildir++ name per
// line, '.' between levels), returning v2 names.
func readSubscriptions(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("skel: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), maxLine)
	var out []string
	v2 := false
	for i := 0; sc.Scan(); i++ {
		line := sc.Text()
		if i == 0 && strings.HasPrefix(line, "V\t") {
			v2 = true
			continue
		}
		if line == "" {
			continue
		}
		if !v2 {
			line = strings.ReplaceAll(line, ".", "\t")
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("skel: read %s: %w", path, err)
	}
	return out, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("skel: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("skel: sync %s: %w", dir, err)
	}
	return nil
}
