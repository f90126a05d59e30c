package maildir

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Dovecot's per-folder and per-root state files, written the way Dovecot 2.3 writes them
// (formats reimplemented from lib-storage/index/maildir/maildir-uidlist.c,
// maildir-keywords.c, lib-storage/list/subscription-file.c and mailbox-uidvalidity.c).
const (
	UIDListName     = "dovecot-uidlist"
	KeywordsName    = "dovecot-keywords"
	SubscriptionsFN = "subscriptions"
	UIDValidityName = "dovecot-uidvalidity"

	// MaxKeywords is the number of keyword letters a Maildir file name can carry (a..z).
	MaxKeywords = 26

	// maxStateLine bounds the lines read from these files (Dovecot file names are short;
	// a subscription is at most a mailbox name).
	maxStateLine = 64 << 10
)

// UIDRecord is one message of a dovecot-uidlist.
type UIDRecord struct {
	UID uint32
	// Ext are the record's extension fields as written ("G<guid>", "W<vsize>", ...),
	// kept verbatim.
	Ext []string
	// Name is the Maildir file's base name: the file name up to (not including) the ':'
	// of ":2,<flags>".
	Name string
}

// UIDList is the content of a folder's dovecot-uidlist.
type UIDList struct {
	// Version is the format read (1 or 3); lists are always written as version 3.
	Version     int
	UIDValidity uint32
	// NextUID is the N header. Dovecot uses the larger of it and the highest UID + 1, see
	// EffectiveNextUID.
	NextUID uint32
	// GUID is the mailbox GUID (32 hex digits); a random one is made when writing
	// without one.
	GUID string
	// HeaderExt are other header fields ("<key><value>"), kept verbatim.
	HeaderExt []string
	// Records are sorted by UID.
	Records []UIDRecord

	byName  map[string]int // base name → index in Records
	pending []NewFile      // files added by AddNew after Records, not yet named
}

// NewUIDList returns an empty list with the given UIDVALIDITY and next UID 1.
func NewUIDList(uidValidity uint32) *UIDList {
	return &UIDList{Version: 3, UIDValidity: uidValidity, NextUID: 1}
}

// BaseName returns a Maildir file name without its ":2,<flags>" info part, which is how
// dovecot-uidlist names files.
func BaseName(name string) string {
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return name[:i]
	}
	return name
}

func (l *UIDList) index() {
	l.settle()
	if l.byName != nil {
		return
	}
	l.byName = make(map[string]int, len(l.Records))
	for i, r := range l.Records {
		l.byName[r.Name] = i
	}
}

// Lookup returns the UID of the file with this name (with or without ":2,…").
func (l *UIDList) Lookup(name string) (uint32, bool) {
	l.index()
	i, ok := l.byName[BaseName(name)]
	if !ok {
		return 0, false
	}
	return l.Records[i].UID, true
}

// EffectiveNextUID is the next UID Dovecot will give: the larger of the N header and the
// highest listed UID + 1 (never 0).
func (l *UIDList) EffectiveNextUID() uint32 {
	n := l.NextUID
	if last := l.lastUID(); last >= n {
		n = last + 1
	}
	if n == 0 {
		n = 1
	}
	return n
}

// Add lists the file name (with or without ":2,…") under uid. Adding a name again under
// the same UID does nothing; a name already listed under another UID, or a UID already
// used by another name, is an error. NextUID grows past uid.
func (l *UIDList) Add(uid uint32, name string) error {
	base := BaseName(name)
	if err := checkListName(base); err != nil {
		return err
	}
	if uid == 0 || uid == math.MaxUint32 {
		return fmt.Errorf("dovecot-uidlist: UID %d for %s is out of range (1..4294967294)", uid, base)
	}
	l.index()
	if i, ok := l.byName[base]; ok {
		if l.Records[i].UID == uid {
			return nil
		}
		return fmt.Errorf("dovecot-uidlist: %s already has UID %d, cannot give it UID %d", base, l.Records[i].UID, uid)
	}
	i := sort.Search(len(l.Records), func(i int) bool { return l.Records[i].UID >= uid })
	if i < len(l.Records) && l.Records[i].UID == uid {
		return fmt.Errorf("dovecot-uidlist: UID %d is already used by %s, cannot give it to %s", uid, l.Records[i].Name, base)
	}
	rec := UIDRecord{UID: uid, Name: base}
	if i == len(l.Records) {
		l.Records = append(l.Records, rec)
		l.byName[base] = i
	} else {
		l.Records = append(l.Records, UIDRecord{})
		copy(l.Records[i+1:], l.Records[i:])
		l.Records[i] = rec
		for j := i; j < len(l.Records); j++ {
			l.byName[l.Records[j].Name] = j
		}
	}
	if uid >= l.NextUID {
		l.NextUID = uid + 1
	}
	return nil
}

// NewFile is a message file delivered by this run, as dovecot-uidlist will list it. Its
// name is not stored but made from the fields when the list is written (see Name), so a
// folder's 50,000 new files take 2.4 MB of memory without a pointer for the garbage
// collector to follow.
type NewFile struct {
	UID         uint32
	Key         Key
	MTime       int64 // Unix seconds
	Size, VSize int64
}

// Name is the file's base name, as Name makes it.
func (f NewFile) Name() string { return string(f.appendName(nil)) }

func (f NewFile) appendName(b []byte) []byte {
	return appendName(b, f.Key, f.MTime, f.Size, f.VSize)
}

// AddNew lists new files: files are sorted by ascending UID and are distinct (a name twice
// is not detected). A file already listed under its name is skipped: it keeps its old UID.
// When every UID of files is above the highest listed UID (a first or an incremental
// conversion) the files are kept as they are and only named when the list is written;
// otherwise each is added with Add. AddNew may keep and reorder files' array: the caller
// must not use it afterwards.
func (l *UIDList) AddNew(files []NewFile) error {
	if len(files) == 0 {
		return nil
	}
	if files[0].UID <= l.lastUID() {
		l.settle()
		for _, f := range files {
			name := f.Name()
			if _, listed := l.Lookup(name); listed {
				continue
			}
			if err := l.Add(f.UID, name); err != nil {
				return err
			}
		}
		return nil
	}
	if len(l.Records) > 0 || len(l.pending) > 0 {
		// files listed before under the same name keep their UID; such names exist only
		// where the list has records
		l.index()
		kept := files[:0]
		for _, f := range files {
			if _, listed := l.byName[f.Name()]; !listed {
				kept = append(kept, f)
			}
		}
		files = kept
	}
	prev := l.lastUID()
	for _, f := range files {
		switch {
		case f.UID == prev:
			return fmt.Errorf("dovecot-uidlist: UID %d given to two files, the second %s (internal error)", f.UID, f.Name())
		case f.UID < prev:
			return fmt.Errorf("dovecot-uidlist: UIDs not ascending (%d after %d) (internal error)", f.UID, prev)
		case f.UID == math.MaxUint32:
			return fmt.Errorf("dovecot-uidlist: UID %d for %s is out of range (1..4294967294)", f.UID, f.Name())
		}
		prev = f.UID
	}
	if len(l.pending) == 0 {
		l.pending = files
	} else {
		l.pending = append(l.pending, files...)
	}
	if prev >= l.NextUID {
		l.NextUID = prev + 1
	}
	return nil
}

// lastUID is the highest UID listed (0 for an empty list).
func (l *UIDList) lastUID() uint32 {
	if n := len(l.pending); n > 0 {
		return l.pending[n-1].UID
	}
	if n := len(l.Records); n > 0 {
		return l.Records[n-1].UID
	}
	return 0
}

// settle turns the files kept by AddNew into Records (for Lookup, Add and callers that read
// Records).
func (l *UIDList) settle() {
	if len(l.pending) == 0 {
		return
	}
	for _, f := range l.pending {
		name := f.Name()
		l.Records = append(l.Records, UIDRecord{UID: f.UID, Name: name})
		if l.byName != nil {
			l.byName[name] = len(l.Records) - 1
		}
	}
	l.pending = nil
}

func checkListName(base string) error {
	switch {
	case base == "":
		return errors.New("dovecot-uidlist: empty file name")
	case strings.ContainsAny(base, "/\r\n"):
		return fmt.Errorf("dovecot-uidlist: file name %q contains '/' or a line break", base)
	}
	return nil
}

// lineReader reads lines of at most maxStateLine bytes.
type lineReader struct {
	r    *bufio.Reader
	path string
	n    int
}

// next returns the next line without its line end; io.EOF at the end.
func (lr *lineReader) next() (string, error) {
	var buf []byte
	for {
		chunk, err := lr.r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxStateLine {
			return "", fmt.Errorf("%s:%d: line longer than %d bytes; this is not a Dovecot file, move it away", lr.path, lr.n+1, maxStateLine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(buf) == 0 {
			return "", io.EOF
		}
		if err != nil && err != io.EOF {
			return "", pathErr("read", lr.path, err)
		}
		lr.n++
		return strings.TrimSuffix(string(bytes.TrimSuffix(buf, []byte("\n"))), "\r"), nil
	}
}

// openIfExists opens a state file for reading: a missing file gives neither a file nor an
// error, any other failure an error naming the file.
func openIfExists(p string) (*os.File, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, pathErr("open", p, err)
	}
	return f, nil
}

// ReadUIDList reads dir/dovecot-uidlist (version 3 as Dovecot 1.1+ writes it, or version
// 1). A missing file gives an error wrapping fs.ErrNotExist. Content Dovecot would reject
// (and then discard, renumbering the folder) is an error naming the line.
func ReadUIDList(dir string) (*UIDList, error) {
	p := filepath.Join(dir, UIDListName)
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read %s: %w", p, fs.ErrNotExist)
		}
		return nil, pathErr("open", p, err)
	}
	defer f.Close()
	return parseUIDList(f, p)
}

func parseUIDList(r io.Reader, p string) (*UIDList, error) {
	lr := &lineReader{r: bufio.NewReaderSize(r, 4096), path: p}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%s:%d: %s; Dovecot would discard this file and give every message a new UID: repair or remove it", p, lr.n, fmt.Sprintf(format, a...))
	}
	hdr, err := lr.next()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file; Dovecot would discard it: remove it", p)
	}
	if err != nil {
		return nil, err
	}
	if len(hdr) < 2 || hdr[0] < '0' || hdr[0] > '9' || hdr[1] != ' ' {
		return nil, bad("invalid version number in header %q", hdr)
	}
	l := &UIDList{Version: int(hdr[0] - '0')}
	switch l.Version {
	case 1:
		f := strings.Fields(hdr[2:])
		if len(f) < 2 {
			return nil, bad("version 1 header needs <uidvalidity> <nextuid>: %q", hdr)
		}
		v, err1 := strconv.ParseUint(f[0], 10, 32)
		n, err2 := strconv.ParseUint(f[1], 10, 32)
		if err1 != nil || err2 != nil {
			return nil, bad("version 1 header needs <uidvalidity> <nextuid>: %q", hdr)
		}
		l.UIDValidity, l.NextUID = uint32(v), uint32(n)
	case 3:
		for _, fld := range strings.Split(hdr[2:], " ") {
			if fld == "" {
				continue
			}
			key, val := fld[0], fld[1:]
			switch key {
			case 'V', 'N':
				n, err := strconv.ParseUint(val, 10, 32)
				if err != nil {
					return nil, bad("invalid %c header value %q", key, val)
				}
				if key == 'V' {
					l.UIDValidity = uint32(n)
				} else {
					l.NextUID = uint32(n)
				}
			case 'G':
				if b, err := hex.DecodeString(val); err != nil || len(b) != 16 {
					return nil, bad("invalid mailbox GUID %q", val)
				}
				l.GUID = val
			default:
				l.HeaderExt = append(l.HeaderExt, fld)
			}
		}
	default:
		return nil, bad("unsupported version %d", l.Version)
	}
	if l.UIDValidity == 0 || l.NextUID == 0 {
		return nil, bad("broken header (uidvalidity=%d, next uid=%d)", l.UIDValidity, l.NextUID)
	}
	l.byName = map[string]int{}
	var prev uint32
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		var uid uint64
		i := 0
		for ; i < len(line) && line[i] >= '0' && line[i] <= '9'; i++ {
			uid = uid*10 + uint64(line[i]-'0')
			if uid > math.MaxUint32 {
				break
			}
		}
		if uid == 0 || i >= len(line) || line[i] != ' ' {
			return nil, bad("invalid record %q", line)
		}
		if uid >= math.MaxUint32 {
			return nil, bad("UID too high (%d)", uid)
		}
		if uint32(uid) <= prev {
			return nil, bad("UIDs not ascending (%d after %d)", uid, prev)
		}
		if l.Version == 1 && uint32(uid) >= l.NextUID {
			return nil, bad("UID %d not below the next UID %d", uid, l.NextUID)
		}
		prev = uint32(uid)
		rest := strings.TrimLeft(line[i:], " ")
		rec := UIDRecord{UID: uint32(uid)}
		if l.Version == 3 {
			for rest != "" && rest[0] != ':' {
				fld := rest
				if j := strings.IndexByte(rest, ' '); j >= 0 {
					fld, rest = rest[:j], rest[j:]
				} else {
					rest = ""
				}
				if fld[0] < 'A' || fld[0] > 'Z' {
					return nil, bad("invalid extension field %q", fld)
				}
				rec.Ext = append(rec.Ext, fld)
				rest = strings.TrimLeft(rest, " ")
			}
			rest = strings.TrimPrefix(rest, ":")
		}
		if rest == "" {
			return nil, bad("record without file name %q", line)
		}
		if strings.Contains(rest, "/") {
			return nil, bad("broken file name %q", rest)
		}
		rec.Name = BaseName(rest)
		if j, dup := l.byName[rec.Name]; dup {
			// Dovecot keeps the later record and warns; do the same
			l.Records = append(l.Records[:j], l.Records[j+1:]...)
			for k := j; k < len(l.Records); k++ {
				l.byName[l.Records[k].Name] = k
			}
		}
		l.byName[rec.Name] = len(l.Records)
		l.Records = append(l.Records, rec)
	}
	return l, nil
}

// Bytes returns the list in version 3 format as Dovecot writes it: "3 V<uidvalidity>
// N<nextuid> G<guid>[ <other header fields>]" and "<uid>[ <ext>...] :<base name>" lines.
// N is EffectiveNextUID. A missing GUID is generated (and kept in l).
func (l *UIDList) Bytes() ([]byte, error) {
	var b bytes.Buffer
	if err := l.write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// write writes the list as Bytes returns it; a large list streams through a small buffer.
func (l *UIDList) write(out io.Writer) error {
	if l.UIDValidity == 0 {
		return errors.New("dovecot-uidlist: UIDVALIDITY 0 is not allowed; pick one with UIDValidityGen")
	}
	if l.GUID == "" {
		var g [16]byte
		if _, err := rand.Read(g[:]); err != nil {
			return fmt.Errorf("generate mailbox GUID: %w", err)
		}
		l.GUID = hex.EncodeToString(g[:])
	}
	b := bufio.NewWriterSize(out, 64<<10)
	fmt.Fprintf(b, "3 V%d N%d G%s", l.UIDValidity, l.EffectiveNextUID(), l.GUID)
	for _, e := range l.HeaderExt {
		b.WriteByte(' ')
		b.WriteString(e)
	}
	b.WriteByte('\n')
	var prev uint32
	var num [10]byte
	for _, r := range l.Records {
		if r.UID <= prev {
			return fmt.Errorf("dovecot-uidlist: UIDs not ascending (%d after %d)", r.UID, prev)
		}
		prev = r.UID
		if err := checkListName(BaseName(r.Name)); err != nil {
			return err
		}
		b.Write(strconv.AppendUint(num[:0], uint64(r.UID), 10))
		for _, e := range r.Ext {
			if e == "" || e[0] < 'A' || e[0] > 'Z' || strings.ContainsAny(e, " \r\n") {
				return fmt.Errorf("dovecot-uidlist: invalid extension field %q for UID %d", e, r.UID)
			}
			b.WriteByte(' ')
			b.WriteString(e)
		}
		b.WriteString(" :")
		b.WriteString(BaseName(r.Name))
		b.WriteByte('\n')
	}
	var line [160]byte
	for _, f := range l.pending {
		if f.UID <= prev {
			return fmt.Errorf("dovecot-uidlist: UIDs not ascending (%d after %d)", f.UID, prev)
		}
		prev = f.UID
		n := strconv.AppendUint(line[:0], uint64(f.UID), 10)
		n = append(n, " :"...)
		n = append(f.appendName(n), '\n')
		b.Write(n)
	}
	return b.Flush()
}

// DefaultLockOptions are used by the functions that lock on their own (WriteUIDList,
// WriteKeywords, WriteSubscriptions): Dovecot's timeouts, the real clock.
var DefaultLockOptions LockOptions

// FolderLock is a held dovecot-uidlist.lock of one Maildir folder. Dovecot changes
// dovecot-uidlist and dovecot-keywords only while holding it, so holding it lets us
// replace both safely while a Dovecot serves the folder.
type FolderLock struct {
	dir string
	dl  *Dotlock
}

// LockFolder takes dir/dovecot-uidlist.lock the way Dovecot does: it waits (up to
// opt.Timeout, default UIDListLockTimeout) while another process holds it, and overrides
// a lock whose process is gone or that did not change for opt.StaleTimeout (default
// UIDListLockStale). The lock holds "<pid>:<hostname>".
func LockFolder(dir string, opt LockOptions) (*FolderLock, error) {
	opt = opt.with(UIDListLockTimeout, UIDListLockStale)
	dl, err := acquireDotlock(filepath.Join(dir, UIDListName), opt, true)
	if err != nil {
		return nil, err
	}
	return &FolderLock{dir: dir, dl: dl}, nil
}

// LockPath returns the path of the held lock file.
func (fl *FolderLock) LockPath() string { return fl.dl.LockPath() }

// Unlock removes the lock file. An error means it had been overridden meanwhile.
func (fl *FolderLock) Unlock() error { return fl.dl.Unlock() }

// ReadUIDList reads the folder's dovecot-uidlist (see the function ReadUIDList).
func (fl *FolderLock) ReadUIDList() (*UIDList, error) { return ReadUIDList(fl.dir) }

// WriteUIDList replaces the folder's dovecot-uidlist atomically: the new content goes to
// dovecot-uidlist.tmp (Dovecot's own temporary name, safe under the lock), is synced and
// renamed over the old file, and the directory is synced.
func (fl *FolderLock) WriteUIDList(l *UIDList) error {
	final := filepath.Join(fl.dir, UIDListName)
	tmp := final + ".tmp"
	if err := fl.dl.stillOurs(); err != nil {
		return err
	}
	if err := writeFileWith(tmp, final, fileModeFor(fl.dir), l.write); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := fl.dl.stillOurs(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return pathErr("rename", tmp, err)
	}
	return syncDir(fl.dir)
}

// writeFileWith creates (truncates) p with the content fill writes, owned like its directory
// when run as root, and fsyncs it. An error of fill that is not a write error (an invalid
// list) is returned after name; the caller removes p.
func writeFileWith(p, name string, mode os.FileMode, fill func(io.Writer) error) error {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return pathErr("create", p, err)
	}
	defer f.Close()
	if err := chownLike(f, filepath.Dir(p)); err != nil {
		return err
	}
	ew := &errWriter{w: f}
	if err := fill(ew); err != nil {
		if ew.err != nil {
			return pathErr("write", p, ew.err)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return pathErr("fsync", p, err)
	}
	return f.Close()
}

// errWriter remembers the first write error, to tell it from the errors of what writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// WriteUIDList locks dir (LockFolder with DefaultLockOptions), writes l as its
// dovecot-uidlist and unlocks.
func WriteUIDList(dir string, l *UIDList) error {
	return withFolderLock(dir, DefaultLockOptions, func(fl *FolderLock) error { return fl.WriteUIDList(l) })
}

// withFolderLock runs fn while holding dir's lock (LockFolder); the lock is released
// whatever fn returns, and an error of fn wins over one of the unlock.
func withFolderLock(dir string, opt LockOptions, fn func(*FolderLock) error) error {
	fl, err := LockFolder(dir, opt)
	if err != nil {
		return err
	}
	if err := fn(fl); err != nil {
		fl.Unlock()
		return err
	}
	return fl.Unlock()
}

// UpdateUIDList locks dir, reads its dovecot-uidlist (a missing one gives nil to fn),
// calls fn, and writes the list fn returns (nothing when it returns nil), then unlocks.
// Use it when a Dovecot may be serving the folder: nothing can change the list between
// the read and the write.
func UpdateUIDList(dir string, opt LockOptions, fn func(*UIDList) (*UIDList, error)) error {
	return withFolderLock(dir, opt, func(fl *FolderLock) error {
		l, err := fl.ReadUIDList()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		nl, err := fn(l)
		if err != nil || nl == nil {
			return err
		}
		return fl.WriteUIDList(nl)
	})
}

// ---- dovecot-keywords ----

// ReadKeywords reads dir/dovecot-keywords: the result's index i is the keyword of file
// name letter 'a'+i ("" where no keyword has that letter). A missing file gives no
// keywords and no error. Lines Dovecot ignores (no space, bad index) are ignored.
func ReadKeywords(dir string) ([]string, error) {
	p := filepath.Join(dir, KeywordsName)
	f, err := openIfExists(p)
	if f == nil {
		return nil, err
	}
	defer f.Close()
	lr := &lineReader{r: bufio.NewReaderSize(f, 4096), path: p}
	var kws []string
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		idxStr, name, ok := strings.Cut(line, " ")
		if !ok || name == "" {
			continue
		}
		idx, err := strconv.ParseUint(idxStr, 10, 32)
		if err != nil || idx >= MaxKeywords {
			continue
		}
		for len(kws) <= int(idx) {
			kws = append(kws, "")
		}
		kws[idx] = name
	}
	return kws, nil
}

// keywordsBytes formats a keyword list as Dovecot writes dovecot-keywords.
func keywordsBytes(kws []string) ([]byte, error) {
	if len(kws) > MaxKeywords {
		return nil, fmt.Errorf("dovecot-keywords: %d keywords, at most %d fit in Maildir file names", len(kws), MaxKeywords)
	}
	var b bytes.Buffer
	seen := map[string]bool{}
	for i, k := range kws {
		if k == "" {
			continue
		}
		if strings.ContainsAny(k, "\r\n") {
			return nil, fmt.Errorf("dovecot-keywords: keyword %q contains a line break", k)
		}
		if seen[strings.ToLower(k)] {
			return nil, fmt.Errorf("dovecot-keywords: keyword %q is listed twice (Dovecot compares keywords without case)", k)
		}
		seen[strings.ToLower(k)] = true
		fmt.Fprintf(&b, "%d %s\n", i, k)
	}
	return b.Bytes(), nil
}

// WriteKeywords replaces the folder's dovecot-keywords the way Dovecot does, under the
// folder lock: the content is written into dovecot-keywords.lock, synced and renamed over
// dovecot-keywords. kws[i] is the keyword of letter 'a'+i ("" for none). The new file's
// mtime is later than the old one's so that Dovecot notices the change.
func (fl *FolderLock) WriteKeywords(kws []string) error {
	content, err := keywordsBytes(kws)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(fl.dir, KeywordsName), err)
	}
	if err := fl.dl.stillOurs(); err != nil {
		return err
	}
	p := filepath.Join(fl.dir, KeywordsName)
	var minMtime time.Time
	if fi, err := os.Stat(p); err == nil {
		minMtime = fi.ModTime()
	}
	// like Dovecot: the folder lock is ours, so a keywords lock is a leftover
	_ = os.Remove(p + ".lock")
	dl, err := acquireDotlock(p, LockOptions{Timeout: -1, StaleTimeout: -1, Now: time.Now, Sleep: time.Sleep}, false)
	if err != nil {
		return err
	}
	return dl.replace(content, minMtime)
}

// WriteKeywords locks dir (LockFolder with DefaultLockOptions), replaces its
// dovecot-keywords and unlocks.
func WriteKeywords(dir string, kws []string) error {
	return withFolderLock(dir, DefaultLockOptions, func(fl *FolderLock) error { return fl.WriteKeywords(kws) })
}

// AssignKeywords gives keyword letters to the keywords used in a folder. existing is the
// folder's current dovecot-keywords (index = letter, "" = free), used the keywords in
// order of first use. Keywords are compared without case, as Dovecot does; a keyword
// already in existing keeps its letter; new ones take the free letters in order of first
// use. Those that find no free letter (more than 26 in the folder) are returned in dropped,
// in order, each once. letters maps every spelling seen in used (and the names in
// existing) to its letter; list is the new dovecot-keywords content.
func AssignKeywords(existing, used []string) (list []string, letters map[string]byte, dropped []string) {
	list = append([]string(nil), existing...)
	if len(list) > MaxKeywords {
		list = list[:MaxKeywords]
	}
	letters = map[string]byte{}
	byFold := map[string]int{}
	for i, k := range list {
		if k == "" {
			continue
		}
		if _, dup := byFold[strings.ToLower(k)]; dup {
			continue
		}
		byFold[strings.ToLower(k)] = i
		letters[k] = byte('a' + i)
	}
	droppedSeen := map[string]bool{}
	for _, k := range used {
		if k == "" {
			continue
		}
		fold := strings.ToLower(k)
		if i, ok := byFold[fold]; ok {
			letters[k] = byte('a' + i)
			continue
		}
		if droppedSeen[fold] {
			continue
		}
		free := -1
		for i, name := range list {
			if name == "" {
				free = i
				break
			}
		}
		if free < 0 && len(list) < MaxKeywords {
			list = append(list, "")
			free = len(list) - 1
		}
		if free < 0 {
			droppedSeen[fold] = true
			dropped = append(dropped, k)
			continue
		}
		list[free] = k
		byFold[fold] = free
		letters[k] = byte('a' + free)
	}
	return list, letters, dropped
}

// KeywordLetters is AssignKeywords without the new list.
func KeywordLetters(existing, used []string) (letters map[string]byte, dropped []string) {
	_, letters, dropped = AssignKeywords(existing, used)
	return letters, dropped
}

// ---- subscriptions ----

const subsV2Header = "V\t2\n\n"

// tabEscape escapes a name level as Dovecot's str_append_tabescaped: \001 → \001 '1',
// TAB → \001 't', CR → \001 'r', LF → \001 'n'.
func tabEscape(s string) string {
	if !strings.ContainsAny(s, "\x01\t\r\n") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 1:
			b.WriteString("\x011")
		case '\t':
			b.WriteString("\x01t")
		case '\r':
			b.WriteString("\x01r")
		case '\n':
			b.WriteString("\x01n")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// TabUnescape undoes the escaping of Dovecot's subscriptions file (version 2): \001
// followed by '1', 't', 'r' or 'n' stands for \001, TAB, CR or LF.
func TabUnescape(s string) string {
	if !strings.Contains(s, "\x01") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 1 && i+1 < len(s) {
			i++
			switch s[i] {
			case '1':
				b.WriteByte(1)
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'n':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ParseSubscriptions reads a Dovecot subscriptions file: version 2 ("V\t2\n\n" then one
// mailbox per line, levels separated by TAB and tab-escaped) or version 1 (one name per
// line, levels separated by v1Sep; 0 means no splitting). Names are returned as stored
// (modified UTF-7 unless the layout is :UTF-8). Empty lines are skipped.
func ParseSubscriptions(r io.Reader, path string, v1Sep byte) (names [][]string, version int, err error) {
	br := bufio.NewReaderSize(r, 4096)
	version = 1
	if hdr, _ := br.Peek(len(subsV2Header)); string(hdr) == subsV2Header {
		version = 2
		br.Discard(len(subsV2Header))
	}
	lr := &lineReader{r: br, path: path}
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, version, err
		}
		if line == "" {
			continue
		}
		var levels []string
		switch {
		case version == 2:
			for _, lv := range strings.Split(line, "\t") {
				levels = append(levels, TabUnescape(lv))
			}
		case v1Sep != 0:
			levels = strings.Split(line, string(v1Sep))
		default:
			levels = []string{line}
		}
		names = append(names, levels)
	}
	return names, version, nil
}

// ReadSubscriptions reads root/subscriptions (see ParseSubscriptions; v1Sep is the
// separator of version 1 names: '.' for Maildir++, '/' for LAYOUT=fs). A missing file
// gives no names and no error.
func ReadSubscriptions(root string, v1Sep byte) ([][]string, error) {
	p := filepath.Join(root, SubscriptionsFN)
	f, err := openIfExists(p)
	if f == nil {
		return nil, err
	}
	defer f.Close()
	names, _, err := ParseSubscriptions(f, p, v1Sep)
	return names, err
}

// subscriptionLine encodes one mailbox for a version 2 file.
func subscriptionLine(levels []string, utf8 bool) string {
	if len(levels) == 1 && strings.EqualFold(levels[0], "INBOX") {
		return "INBOX"
	}
	enc := make([]string, len(levels))
	for i, lv := range levels {
		if !utf8 {
			lv = EncodeMUTF7(lv)
		}
		enc[i] = tabEscape(lv)
	}
	return strings.Join(enc, "\t")
}

// WriteSubscriptions adds mailboxes to root/subscriptions, in version 2 format. names are
// IMAP names (UTF-8, one element per hierarchy level; "INBOX" in any case is INBOX); each
// level is written in modified UTF-7, or as UTF-8 when utf8 is set (Dovecot's :UTF-8).
// Existing subscriptions are never dropped: a version 2 file's lines are kept byte for
// byte, a version 1 file's names (levels separated by v1Sep, '.' when 0) are converted.
// The file is replaced the way Dovecot does it: written into subscriptions.lock (taken
// with Dovecot's timeouts), synced and renamed. Nothing is written when all names are
// already subscribed in a version 2 file.
func WriteSubscriptions(root string, names [][]string, utf8 bool, v1Sep byte) error {
	if v1Sep == 0 {
		v1Sep = '.'
	}
	p := filepath.Join(root, SubscriptionsFN)
	opt := DefaultLockOptions.with(SubscriptionsLockTimeout, SubscriptionsLockStale)
	dl, err := acquireDotlock(p, opt, false)
	if err != nil {
		return err
	}
	var lines []string
	have := map[string]bool{}
	add := func(l string) bool {
		if l == "" || have[l] {
			return false
		}
		have[l] = true
		lines = append(lines, l)
		return true
	}
	version := 2
	if f, err := os.Open(p); err == nil {
		var old [][]string
		old, version, err = ParseSubscriptions(f, p, v1Sep)
		f.Close()
		if err != nil {
			dl.Unlock()
			return err
		}
		for _, levels := range old {
			esc := make([]string, len(levels))
			for i, lv := range levels {
				esc[i] = tabEscape(lv)
			}
			add(strings.Join(esc, "\t"))
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		dl.Unlock()
		return pathErr("open", p, err)
	}
	changed := version != 2
	for _, levels := range names {
		if len(levels) == 0 {
			continue
		}
		if add(subscriptionLine(levels, utf8)) {
			changed = true
		}
	}
	if !changed {
		return dl.Unlock()
	}
	var b strings.Builder
	b.WriteString(subsV2Header)
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return dl.replace([]byte(b.String()), time.Time{})
}

// ---- UIDVALIDITY ----

// UIDValidityGen hands out UIDVALIDITY values for new folders of one Maildir root,
// compatible with Dovecot's own allocator (mailbox-uidvalidity.c): root/dovecot-uidvalidity
// holds the last value in hex and the empty marker root/dovecot-uidvalidity.<hex> is
// renamed to the next value, so that Dovecot and we never hand out the same value. When
// the root cannot be used the values come from the clock. Values are never 0 and strictly
// increase within one generator. Safe for concurrent use.
type UIDValidityGen struct {
	root string
	// Now replaces the clock (tests).
	Now func() time.Time

	mu   sync.Mutex
	last uint32
}

// NewUIDValidityGen returns a generator for the Maildir root (may be "" for clock only).
func NewUIDValidityGen(root string) *UIDValidityGen {
	return &UIDValidityGen{root: root, Now: time.Now}
}

// Next returns a fresh UIDVALIDITY.
func (g *UIDValidityGen) Next() uint32 {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := uint32(0), false
	if g.root != "" {
		v, ok = g.fromRoot()
	}
	if !ok || v <= g.last {
		v = g.fallback()
	}
	g.last = v
	return v
}

func (g *UIDValidityGen) fallback() uint32 {
	now := g.Now().Unix()
	v := uint32(1)
	if now > 0 && now < math.MaxUint32 {
		v = uint32(now)
	}
	if v <= g.last {
		v = g.last + 1
	}
	if v == 0 {
		v = 1
	}
	return v
}

func (g *UIDValidityGen) fromRoot() (uint32, bool) {
	p := filepath.Join(g.root, UIDValidityName)
	if b, err := os.ReadFile(p); err == nil && len(b) >= 8 {
		if cur, err := strconv.ParseUint(string(b[:8]), 16, 32); err == nil {
			if v, ok := g.bump(p, uint32(cur)); ok {
				return v, true
			}
		}
	}
	// rescan the markers
	ents, err := os.ReadDir(g.root)
	if err != nil {
		return 0, false
	}
	var maxV uint32
	found := false
	for _, e := range ents {
		hexPart, ok := strings.CutPrefix(e.Name(), UIDValidityName+".")
		if !ok {
			continue
		}
		if v, err := strconv.ParseUint(hexPart, 16, 32); err == nil {
			found = true
			if uint32(v) > maxV {
				maxV = uint32(v)
			}
		}
	}
	if found {
		return g.bump(p, maxV)
	}
	v := g.fallback()
	marker := fmt.Sprintf("%s.%08x", p, v)
	f, err := os.OpenFile(marker, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return 0, false
	}
	chownLike(f, g.root)
	f.Close()
	g.writeMain(p, v)
	return v, true
}

// bump renames the marker of cur to cur+1 and records cur+1.
func (g *UIDValidityGen) bump(p string, cur uint32) (uint32, bool) {
	for i := 0; i < 10; i++ {
		next := cur + 1
		if next == 0 {
			return 0, false
		}
		err := os.Rename(fmt.Sprintf("%s.%08x", p, cur), fmt.Sprintf("%s.%08x", p, next))
		if err == nil {
			g.writeMain(p, next)
			return next, true
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return 0, false
		}
		cur = next // someone else took it: try the next one
	}
	return 0, false
}

func (g *UIDValidityGen) writeMain(p string, v uint32) {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, fileModeFor(g.root))
	if err != nil {
		return
	}
	chownLike(f, g.root)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("%08x", v)), 0)
	f.Close()
}

// POP3UIDL returns Dovecot's default POP3 UIDL (pop3_uidl_format = %08Xu%08Xv) of a
// message. Dovecot's X modifier writes lower-case hex.
func POP3UIDL(uid, uidValidity uint32) string {
	return fmt.Sprintf("%08x%08x", uid, uidValidity)
}
