// Package source decides what to convert: it implements the -m, -s, -d, -R, -f, -l and -r
// semantics of mb2md 3.20 (with its path bugs fixed) and returns a Plan of mailboxes.
//
// It never reads mail: whether a file really is an mbox is decided by the reader.
package source

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Config is what the command line says about sources and destination.
type Config struct {
	Spool    bool   // -m: convert the user's spool file into the destination root
	Source   string // -s FILE|DIR
	Dest     string // -d DIR (default "Maildir")
	Recurse  bool   // -R
	SubDir   string // -f DIR
	ListFile string // -l FILE
	StripExt string // -r EXT
	LayoutFS bool   // --layout fs: folder names keep their dots

	// Environment, passed in so tests never depend on the real one.
	Home      string   // $HOME, or the passwd home when HOME is unset
	Cwd       string   // the working directory at start (absolute)
	Mail      *string  // $MAIL when defined (even empty), else nil
	User      string   // passwd name of the real uid
	SpoolDirs []string // where -m looks, in order (default /var/spool/mail, /var/mail)
}

// Mailbox is one thing to convert.
type Mailbox struct {
	Path   string   // absolute path of the mbox file; empty for a folder made from a directory
	Rel    string   // path relative to the source root ("" for single-file modes)
	Folder []string // folder components; empty means the root (INBOX)
	// DirName, when set, is the Maildir++ directory name under the root, used verbatim
	// (--compat: mb2md's raw byte names). Otherwise it is derived from Folder.
	DirName string
	// Required marks a source named on its own (-m, -s FILE, a user's spool): if it is not
	// an mbox, that is an error; in a folder directory it is only a warning.
	Required bool
	// Err is set for a directory that could not be read: it is reported as a failed mailbox
	// (exit status 1) while the rest is converted.
	Err string
	// CompatEmpty marks a --compat folder that mb2md 3.20 creates empty (a directory, a
	// non-mbox file below the top level, a file not in the -l list).
	CompatEmpty bool
	// File, when set, is the mbox already open (e.g. a locked spool passed in by a parent
	// process): it is read instead of opening Path, and not closed. Path still names it.
	File *os.File
}

// Skip is an entry that is not converted, with the reason.
type Skip struct {
	Path   string
	Reason string
}

// Plan is the resolved work: the destination root, the mailboxes in a deterministic order,
// and what was skipped.
type Plan struct {
	Dest      string
	Source    string // absolute source path (file or directory)
	Single    bool   // -m or -s FILE: messages go into the root
	Mailboxes []Mailbox
	Skipped   []Skip
	// Subscribed are the folders the source's subscription lists name (Dovecot's mbox
	// .subscriptions, UW-IMAP's .mailboxlist, the -l list), as folder components; nil when
	// the source has no list.
	Subscribed [][]string
}

// UsageError is a command-line mistake (exit status 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// destPath is the absolute destination root (-d, default "Maildir").
func (cfg Config) destPath() (string, error) {
	dest := cfg.Dest
	if dest == "" {
		dest = "Maildir"
	}
	return cfg.path(dest, "-d")
}

// sourcePath is the absolute -s path, which must be an mbox file or a directory.
func (cfg Config) sourcePath() (path string, isDir bool, err error) {
	if path, err = cfg.path(cfg.Source, "-s"); err != nil {
		return "", false, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", false, fmt.Errorf("source %s: %w; check the -s path", path, unwrapPath(err))
	}
	switch {
	case st.Mode().IsRegular():
		return path, false, nil
	case st.IsDir():
		return path, true, nil
	}
	return "", false, fmt.Errorf("source %s is neither an mbox file nor a directory (%s); give a regular file or a directory to -s", path, typeName(st.Mode()))
}

// subDir is -f's directory relative to the source directory, which must hold it.
func (cfg Config) subDir(source string) (string, error) {
	sub := strings.TrimSuffix(cfg.SubDir, "/")
	dir := filepath.Join(source, sub)
	st, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("-f %s: %s does not exist; give a subdirectory of %s", cfg.SubDir, dir, source)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("-f %s: %s is not a directory; give a subdirectory of %s", cfg.SubDir, dir, source)
	}
	return sub, nil
}

// Resolve turns the configuration into a Plan. All paths in the plan are absolute, resolved once
// at start (mb2md's bug B1 does not exist here).
func Resolve(cfg Config) (*Plan, error) {
	if !cfg.Spool && cfg.Source == "" {
		return nil, &UsageError{"nothing to convert: give -m (your spool file) or -s FILE|DIR"}
	}
	if cfg.Recurse && cfg.SubDir != "" {
		return nil, &UsageError{"-R and -f cannot be combined: -f always converts the whole subtree"}
	}
	p := &Plan{}
	var err error
	if p.Dest, err = cfg.destPath(); err != nil {
		return nil, err
	}
	if cfg.Spool {
		spool, err := cfg.findSpool()
		if err != nil {
			return nil, err
		}
		p.Source = spool
		p.Single = true
		p.Mailboxes = []Mailbox{{Path: spool, Required: true}}
		return p, nil
	}
	var isDir bool
	if p.Source, isDir, err = cfg.sourcePath(); err != nil {
		return nil, err
	}
	if !isDir {
		p.Single = true
		p.Mailboxes = []Mailbox{{Path: p.Source, Required: true}}
		return p, nil
	}
	var list map[string]bool
	if cfg.ListFile != "" {
		if list, err = readList(cfg.absolute(cfg.ListFile)); err != nil {
			return nil, err
		}
	}
	w := walker{plan: p, list: list, strip: cfg.StripExt, keepDots: cfg.LayoutFS, seen: map[[2]uint64]bool{}, homeRel: homeRel(cfg.Home, p.Source)}
	if cfg.SubDir != "" {
		sub, err := cfg.subDir(p.Source)
		if err != nil {
			return nil, err
		}
		comps := strings.Split(filepath.ToSlash(filepath.Clean(sub)), "/")
		w.add(Mailbox{Rel: sub, Folder: w.mapComps(comps)})
		if err := w.dir(filepath.Join(p.Source, sub), sub, comps, true); err != nil {
			return nil, err
		}
	} else if err := w.dir(p.Source, "", nil, cfg.Recurse); err != nil {
		return nil, err
	}
	if p.Subscribed, err = w.subscriptions(cfg, p.Source); err != nil {
		return nil, err
	}
	return p, nil
}

// subscriptions reads the subscription lists that belong to a folder directory: Dovecot's
// mbox .subscriptions in it, UW-IMAP's .mailboxlist in it or in HOME, and the -l list.
func (w *walker) subscriptions(cfg Config, src string) ([][]string, error) {
	var prefixes []string
	if w.homeRel != "" {
		prefixes = []string{w.homeRel + "/", "~/" + w.homeRel + "/"}
	}
	var all [][]string
	found := false
	add := func(names [][]string, err error, path string) error {
		if err != nil {
			return err
		}
		if _, serr := os.Stat(path); serr == nil {
			found = true
		}
		all = append(all, names...)
		return nil
	}
	p := filepath.Join(src, ".subscriptions")
	names, err := ReadDovecotSubscriptions(p)
	if err := add(names, err, p); err != nil {
		return nil, err
	}
	lists := []string{filepath.Join(src, ".mailboxlist")}
	if cfg.Home != "" {
		lists = append(lists, filepath.Join(cfg.Home, ".mailboxlist"))
	}
	if cfg.ListFile != "" {
		lists = append(lists, cfg.absolute(cfg.ListFile))
	}
	seen := map[string]bool{}
	for _, l := range lists {
		if seen[l] {
			continue
		}
		seen[l] = true
		names, err := ReadMailboxList(l, prefixes)
		if err := add(names, err, l); err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, nil
	}
	out := make([][]string, 0, len(all))
	for _, n := range all {
		out = append(out, w.mapComps(n))
	}
	return out, nil
}

// path resolves -s/-d the way mb2md does, but once and to an absolute path: "/x" as given,
// ".x" relative to the working directory, anything else relative to HOME.
func (cfg Config) path(v, opt string) (string, error) {
	v = strings.TrimSuffix(v, "/")
	if v == "" {
		v = "/"
	}
	switch {
	case strings.HasPrefix(v, "/"):
		return filepath.Clean(v), nil
	case strings.HasPrefix(v, "."):
		return filepath.Join(cfg.Cwd, v), nil
	}
	if cfg.Home == "" {
		return "", &UsageError{fmt.Sprintf("%s %s is relative to your home directory, but HOME is not set; give an absolute path", opt, v)}
	}
	home := cfg.Home
	if !filepath.IsAbs(home) {
		home = filepath.Join(cfg.Cwd, home)
	}
	if _, err := os.Stat(home); err != nil {
		return "", fmt.Errorf("home directory %s does not exist; set HOME or give %s an absolute path", home, opt)
	}
	return filepath.Join(home, v), nil
}

func (cfg Config) absolute(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(cfg.Cwd, p)
}

// findSpool implements -m: $MAIL if defined, else <dir>/<user> for each spool dir that holds a
// regular file.
func (cfg Config) findSpool() (string, error) {
	if cfg.Mail != nil {
		m := *cfg.Mail
		if m == "" {
			return "", errors.New("MAIL is set but empty; unset it or point it at your spool file")
		}
		m = cfg.absolute(m)
		if _, err := os.Stat(m); err != nil {
			return "", fmt.Errorf("spool file %s (from $MAIL): %w; check $MAIL", m, unwrapPath(err))
		}
		return m, nil
	}
	var tried []string
	for _, d := range cfg.SpoolDirs {
		p := filepath.Join(d, cfg.User)
		tried = append(tried, p)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no spool file found for user %q: searched $MAIL, %s; set MAIL or use -s FILE", cfg.User, strings.Join(tried, ", "))
}

func readList(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mailbox list %s: %w; check the -l path (it is relative to the current directory)", path, unwrapPath(err))
	}
	defer f.Close()
	list := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if l != "" {
			list[l] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mailbox list %s: %w", path, err)
	}
	return list, nil
}

// homeRel is the source directory relative to HOME ("mail" for ~/mail), used to match UW-IMAP
// .mailboxlist entries such as "mail/Sent".
func homeRel(home, src string) string {
	if home == "" {
		return ""
	}
	r, err := filepath.Rel(home, src)
	if err != nil || strings.HasPrefix(r, "..") || r == "." {
		return ""
	}
	return filepath.ToSlash(r)
}

type walker struct {
	plan     *Plan
	list     map[string]bool
	strip    string
	keepDots bool
	homeRel  string
	seen     map[[2]uint64]bool
}

func (w *walker) add(m Mailbox)         { w.plan.Mailboxes = append(w.plan.Mailboxes, m) }
func (w *walker) skip(path, why string) { w.plan.Skipped = append(w.plan.Skipped, Skip{path, why}) }

// mapComps turns source path components into folder components: a final "-r" extension is
// removed from each component.
func (w *walker) mapComps(comps []string) []string {
	out := make([]string, len(comps))
	for i, c := range comps {
		if w.strip != "" && strings.HasSuffix(c, "."+w.strip) && len(c) > len(w.strip)+1 {
			c = strings.TrimSuffix(c, "."+w.strip)
		}
		// Maildir++ uses '.' as its hierarchy separator: a dot in a name becomes '_' (as
		// mb2md and Dovecot's dsync do), so the folder shows as "lists/debian_announce"
		if !w.keepDots {
			c = strings.ReplaceAll(c, ".", "_")
		}
		out[i] = c
	}
	return out
}

func (w *walker) listed(rel string) bool {
	if w.list == nil {
		return true
	}
	if w.list[rel] {
		return true
	}
	return w.homeRel != "" && w.list[w.homeRel+"/"+rel]
}

// dir lists one directory in sorted order. recurse says whether subdirectories are entered.
func (w *walker) dir(abs, rel string, comps []string, recurse bool) error {
	if st, err := os.Stat(abs); err == nil {
		w.visit(st)
	}
	ents, err := os.ReadDir(abs)
	if err != nil {
		return fmt.Errorf("directory %s: %w; check its permissions", abs, unwrapPath(err))
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	for _, e := range ents {
		name := e.Name()
		path := filepath.Join(abs, name)
		erel := name
		if rel != "" {
			erel = rel + "/" + name
		}
		if strings.HasPrefix(name, ".") {
			w.skip(path, "hidden name (starts with '.')")
			continue
		}
		st, err := os.Stat(path) // follows symlinks, like mb2md
		if err != nil {
			w.skip(path, "cannot stat: "+unwrapPath(err).Error())
			continue
		}
		ecomps := append(append([]string(nil), comps...), name)
		switch {
		case st.IsDir():
			if !recurse {
				w.skip(path, "directory, and -R was not given")
				continue
			}
			if !w.visit(st) {
				w.skip(path, "directory already visited (symlink loop)")
				continue
			}
			idx := len(w.plan.Mailboxes)
			w.add(Mailbox{Rel: erel, Folder: w.mapComps(ecomps)})
			if err := w.dir(path, erel, ecomps, true); err != nil {
				w.plan.Mailboxes[idx].Err = err.Error()
			}
		case st.Mode().IsRegular():
			if !w.listed(erel) {
				w.skip(path, "not in the -l mailbox list")
				continue
			}
			folder := w.mapComps(ecomps)
			if rel == "" && strings.EqualFold(name, "inbox") {
				folder = nil // an inbox file is the root, as Dovecot sees it
			}
			w.add(Mailbox{Path: path, Rel: erel, Folder: folder})
		default:
			w.skip(path, "not a regular file ("+typeName(st.Mode())+")")
		}
	}
	return nil
}

// visit records a directory and reports whether it was new.
func (w *walker) visit(st fs.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	id := [2]uint64{uint64(sys.Dev), uint64(sys.Ino)}
	if w.seen[id] {
		return false
	}
	w.seen[id] = true
	return true
}

func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	}
	return "not a regular file"
}

// unwrapPath drops the *PathError wrapper so messages do not repeat the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
