package source

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/mb2md/mb2md/internal/mbox"
)

// ResolveCompat is Resolve with mb2md 3.20's folder rules (--compat, docs/mb2md-3.20.md
// §1.3–1.4, §3): folder names are raw bytes with '.' → '_' and '/' → '.', "-r EXT" is a
// regular expression removing a final "_EXT", -f keeps its dots as '_', directories,
// non-mbox files below the top level and files not in the -l list become empty folders
// (Mailbox.CompatEmpty), hidden names are skipped, a top-level non-mbox file is skipped
// without a folder, and INBOX is an ordinary folder (".INBOX").
//
// Not reproduced: entries are visited in sorted order instead of readdir order (B22), paths
// are made absolute once (B1), the -l file is opened as a plain file (B20), FIFOs and
// devices are skipped instead of blocking the run (B17), and symlink loops are cut.
func ResolveCompat(cfg Config) (*Plan, error) {
	if !cfg.Spool && cfg.Source == "" {
		return nil, &UsageError{"nothing to convert: give -m (your spool file) or -s FILE|DIR"}
	}
	p := &Plan{}
	var err error
	var isDir bool
	if cfg.Spool {
		if p.Source, err = cfg.findSpool(); err != nil {
			return nil, err
		}
	} else if p.Source, isDir, err = cfg.sourcePath(); err != nil {
		return nil, err
	}
	if cfg.Recurse && cfg.SubDir != "" {
		return nil, &UsageError{"-R and -f cannot be combined: -f always converts the whole subtree"}
	}
	var list map[string]bool
	if cfg.ListFile != "" {
		// mb2md reads the list in every mode (and dies when it cannot)
		if list, err = readCompatList(cfg.absolute(cfg.ListFile)); err != nil {
			return nil, err
		}
	}
	if p.Dest, err = cfg.destPath(); err != nil {
		return nil, err
	}
	if !isDir {
		p.Single = true
		p.Mailboxes = []Mailbox{{Path: p.Source, Required: true}}
		return p, nil
	}
	w := compatWalker{plan: p, list: list, seen: map[[2]uint64]bool{}}
	if cfg.StripExt != "" {
		// mb2md interpolates EXT into s/\_EXT$//: a regular expression
		if w.strip, err = regexp.Compile("_" + cfg.StripExt + "$"); err != nil {
			return nil, &UsageError{fmt.Sprintf("-r %s: not a regular expression this tool understands (%v); give the plain extension, e.g. -r mbx", cfg.StripExt, err)}
		}
	}
	if cfg.SubDir != "" {
		sub, err := cfg.subDir(p.Source)
		if err != nil {
			return nil, err
		}
		return p, w.entry(sub, "")
	}
	if st, err := os.Stat(p.Source); err == nil {
		w.visit(st)
	}
	names, err := readNames(p.Source)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		path := filepath.Join(p.Source, name)
		st, err := os.Stat(path) // follows symlinks, like mb2md's -d and -f
		switch {
		case err != nil:
			w.skip(path, "not a file nor a directory ("+unwrapPath(err).Error()+")")
		case st.IsDir() && !cfg.Recurse:
			w.skip(path, "directory, and -R was not given")
		case st.IsDir():
			if err := w.entry(name, ""); err != nil {
				return nil, err
			}
		case !st.Mode().IsRegular():
			w.skip(path, "not a regular file ("+typeName(st.Mode())+")")
		case !IsMB2MDMbox(path):
			w.skip(path, "not an mbox file (the first line is not a From_ line); no folder made, as mb2md does at the top level")
		default:
			if err := w.entry(name, ""); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// IsMB2MDMbox is mb2md's test: the file is empty or its first line matches
// ^From +\S+ .*\d\d:\d\d. A file that cannot be read counts as an mbox, so that converting it
// reports the error.
func IsMB2MDMbox(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true
	}
	defer f.Close()
	first, err := bufio.NewReaderSize(f, 64<<10).ReadSlice('\n')
	if len(first) == 0 {
		return err == io.EOF
	}
	return mbox.IsMB2MDFromLine(first)
}

// readCompatList reads a UW-IMAP .mailboxlist as mb2md does: every line with only its "\n"
// removed is a key, compared byte for byte.
func readCompatList(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mailbox list %s: %w; check the -l path (it is relative to the current directory)", path, unwrapPath(err))
	}
	list := map[string]bool{}
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if len(l) > 0 {
			list[string(bytes.TrimSuffix(l, []byte("\n")))] = true
		}
	}
	return list, nil
}

// readNames lists a directory in sorted order, without ".", ".." and other all-dot names.
func readNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("directory %s: %w; check its permissions", dir, unwrapPath(err))
	}
	var names []string
	for _, e := range ents {
		if strings.Trim(e.Name(), ".") != "" {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

type compatWalker struct {
	plan  *Plan
	list  map[string]bool
	strip *regexp.Regexp
	seen  map[[2]uint64]bool
}

func (w *compatWalker) skip(path, why string) {
	w.plan.Skipped = append(w.plan.Skipped, Skip{path, why})
}

func (w *compatWalker) visit(st os.FileInfo) bool { return (&walker{seen: w.seen}).visit(st) }

// CompatDirName is mb2md 3.20's folder directory for the entry name whose parent path
// relative to the source root is parent ("" at the top level, else "/p1/p2"): dots become
// '_' in both, they are joined with '.', a final "_EXT" matching strip is removed, and every
// run of '/' becomes '.'.
func CompatDirName(parent, name string, strip *regexp.Regexp) string {
	d := strings.ReplaceAll(parent, ".", "_") + "." + strings.ReplaceAll(name, ".", "_")
	if strip != nil {
		if loc := strip.FindStringIndex(d); loc != nil {
			d = d[:loc[0]] + d[loc[1]:]
		}
	}
	return slashRuns.ReplaceAllString(d, ".")
}

var slashRuns = regexp.MustCompile(`/+`)

// entry is mb2md's convertit(name, parent): parent is "" or "/p1/p2".
func (w *compatWalker) entry(name, parent string) error {
	path := filepath.Join(w.plan.Source, parent, name)
	if strings.HasPrefix(name, ".") {
		w.skip(path, "hidden name (starts with '.')")
		return nil
	}
	dirName := CompatDirName(parent, name, w.strip)
	rel := strings.TrimPrefix(parent+"/"+name, "/")
	folder := strings.Split(strings.TrimPrefix(dirName, "."), ".")
	empty := Mailbox{Rel: rel, Folder: folder, DirName: dirName, CompatEmpty: true}
	st, err := os.Stat(path)
	if err != nil {
		// mb2md makes the folder, then fails to open the entry
		w.plan.Mailboxes = append(w.plan.Mailboxes, empty)
		w.skip(path, "cannot stat: "+unwrapPath(err).Error())
		return nil
	}
	if st.IsDir() {
		w.plan.Mailboxes = append(w.plan.Mailboxes, empty)
		if !w.visit(st) {
			w.skip(path, "directory already visited (symlink loop)")
			return nil
		}
		names, err := readNames(path)
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := w.entry(n, parent+"/"+name); err != nil {
				return err
			}
		}
		return nil
	}
	switch {
	case !st.Mode().IsRegular():
		// mb2md makes the folder, then blocks opening a FIFO (B17)
		w.plan.Mailboxes = append(w.plan.Mailboxes, empty)
		w.skip(path, "not a regular file ("+typeName(st.Mode())+"); its folder is left empty")
	case w.list != nil && !w.list[rel]:
		w.plan.Mailboxes = append(w.plan.Mailboxes, empty)
		w.skip(path, "not in the -l mailbox list; its folder is left empty, as mb2md does")
	case !IsMB2MDMbox(path):
		w.plan.Mailboxes = append(w.plan.Mailboxes, empty)
		w.skip(path, "not an mbox file (the first line is not a From_ line); its folder is left empty, as mb2md does")
	default:
		empty.Path, empty.CompatEmpty = path, false
		w.plan.Mailboxes = append(w.plan.Mailboxes, empty)
	}
	return nil
}
