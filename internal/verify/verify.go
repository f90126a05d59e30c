// Package verify reconciles a source with a Maildir converted from it: every source message
// present exactly once, with the right bytes, flags and mtime.
//
// The source is read again with the conversion's own machinery (convert.Run with a recording
// DryRunSink that pretends the destination is empty), which yields exactly the files a first
// conversion writes; then each Maildir folder is scanned read-only and matched by the key in
// the file names, and every match is checked by content (size and SHA-256), flags and mtime.
package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mb2md/mb2md/internal/convert"
	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/source"
)

// Kind is a kind of finding.
type Kind string

// The findings. Differences always count, except Deleted, FlagsChanged and Foreign, which are
// what users do with a Maildir in use; they count only with Options.Strict.
const (
	Missing       Kind = "missing"        // a source message has no file (--strict)
	Deleted       Kind = "deleted"        // a source message has no file: taken as deleted by the user
	Duplicated    Kind = "duplicated"     // a second file for one source message
	ChangedBytes  Kind = "changed_bytes"  // the file's content differs from the message
	FlagsChanged  Kind = "flags_changed"  // flags differ from those the conversion gave
	WrongMTime    Kind = "wrong_mtime"    // the file's mtime (INTERNALDATE) is not the message date
	Extra         Kind = "extra"          // a file named by mb2md that no source message explains
	Foreign       Kind = "foreign"        // a file not written by mb2md (mail delivered since)
	MissingFolder Kind = "missing_folder" // a folder of the source is not in the Maildir
	// IMAP continuity (not checked for --compat, which writes no dovecot-uidlist):
	UIDListMissing     Kind = "uidlist_missing"     // the folder has no dovecot-uidlist
	UIDMissing         Kind = "uid_missing"         // a message's file is not in dovecot-uidlist
	UIDChanged         Kind = "uid_changed"         // a message's X-UID is not its UID
	UIDOrder           Kind = "uid_order"           // UIDs do not follow the mbox order
	UIDValidityChanged Kind = "uidvalidity_changed" // not the source's X-IMAPbase UIDVALIDITY
	SourceError        Kind = "source_error"        // the source could not be read: nothing verified for it
)

// Options control a verification.
type Options struct {
	// Convert are the options of the conversion (format, time zone, UTF-8 names, jobs...);
	// Sink is ignored.
	Convert convert.Options
	// Strict counts deleted messages (as missing), changed flags and foreign files too.
	Strict bool
}

// Problem is one finding.
type Problem struct {
	Kind       Kind   `json:"kind"`
	Difference bool   `json:"difference"`       // counts for the exit status
	Folder     string `json:"folder"`           // as IMAP shows it
	Source     string `json:"source,omitempty"` // the mbox file
	Line       int64  `json:"line,omitempty"`   // of the message's From_ line in Source
	File       string `json:"file,omitempty"`   // the Maildir file (or folder)
	Detail     string `json:"detail"`
}

// Position is "source:line" (or the source alone).
func (p Problem) Position() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d", p.Source, p.Line)
	}
	return p.Source
}

// Folder is the outcome for one source mailbox.
type Folder struct {
	Folder   string    `json:"folder"`
	Source   string    `json:"source"`
	Dest     string    `json:"dest"`
	Messages int       `json:"messages"` // messages a conversion delivers into it
	OK       int       `json:"ok"`       // present once with the right bytes, flags and mtime
	Problems []Problem `json:"problems"`
}

// Report is the outcome of a verification.
type Report struct {
	Dest        string       `json:"dest"`
	Strict      bool         `json:"strict"`
	Folders     []*Folder    `json:"folders"`
	Counts      map[Kind]int `json:"counts"`
	Messages    int          `json:"messages"`
	OK          int          `json:"ok"`
	Differences int          `json:"differences"`
	// SourceErrors counts sources that could not be read (the verification is incomplete).
	SourceErrors int `json:"source_errors"`
}

// Clean reports whether nothing differs and every source was read.
func (r *Report) Clean() bool { return r.Differences == 0 && r.SourceErrors == 0 }

// Run verifies the Maildir plan.Dest against the sources of plan.
func Run(ctx context.Context, plan *source.Plan, opt Options) (*Report, error) {
	exp := newExpected()
	copt := opt.Convert
	copt.Sink = convert.DryRunSink{Fresh: true, OnFolder: exp.folder, OnDelivery: exp.delivery}
	results, err := convert.Run(ctx, plan, copt, nopObserver{})
	if err != nil {
		return nil, err
	}
	rep := &Report{Dest: plan.Dest, Strict: opt.Strict, Counts: map[Kind]int{}, Folders: []*Folder{}}
	for _, r := range results {
		if err := ctx.Err(); err != nil {
			return nil, convert.ErrInterrupted
		}
		f := &Folder{Folder: r.Folder, Source: r.Source, Dest: r.Dest, Problems: []Problem{}}
		switch {
		case r.Error != "":
			f.add(opt, Problem{Kind: SourceError, Detail: r.Error})
		case exp.folders[r.Dest]:
			ds := exp.byDir[r.Dest]
			f.Messages = len(ds)
			if err := checkFolder(f, ds, opt); err != nil {
				f.add(opt, Problem{Kind: SourceError, File: r.Dest, Detail: err.Error()})
			}
		default:
			continue // not an mbox file in a folder directory: not converted, nothing to verify
		}
		rep.add(f)
	}
	return rep, nil
}

func (r *Report) add(f *Folder) {
	r.Folders = append(r.Folders, f)
	r.Messages += f.Messages
	r.OK += f.OK
	for _, p := range f.Problems {
		r.Counts[p.Kind]++
		switch {
		case p.Kind == SourceError:
			r.SourceErrors++
		case p.Difference:
			r.Differences++
		}
	}
}

func (f *Folder) add(opt Options, p Problem) {
	if p.Kind == Deleted && opt.Strict {
		p.Kind = Missing
	}
	switch p.Kind {
	case Deleted, FlagsChanged, Foreign:
		p.Difference = opt.Strict
	case SourceError:
		p.Difference = false
	default:
		p.Difference = true
	}
	p.Folder, p.Source = f.Folder, f.Source
	f.Problems = append(f.Problems, p)
}

type nopObserver struct{}

func (nopObserver) MailboxDone(*convert.Result) {}

// expected collects what a first conversion delivers.
type expected struct {
	mu      sync.Mutex
	folders map[string]bool
	byDir   map[string][]convert.Delivery
}

func newExpected() *expected {
	return &expected{folders: map[string]bool{}, byDir: map[string][]convert.Delivery{}}
}

func (e *expected) folder(dir string) {
	e.mu.Lock()
	e.folders[dir] = true
	e.mu.Unlock()
}

func (e *expected) delivery(d convert.Delivery) {
	e.mu.Lock()
	e.byDir[d.Dir] = append(e.byDir[d.Dir], d)
	e.mu.Unlock()
}

// actual is a file of the folder, read once.
type actual struct {
	e     maildir.Entry
	path  string
	size  int64
	sum   [32]byte
	mtime time.Time
	err   error
	read  bool
	used  bool
}

func (a *actual) load() {
	if a.read {
		return
	}
	a.read = true
	st, sum, err := convert.FileSum(a.path)
	if err != nil {
		a.err = err
		return
	}
	a.size, a.sum, a.mtime = st.Size(), sum, st.ModTime()
}

func (a *actual) same(d *convert.Delivery) bool {
	a.load()
	return a.err == nil && a.size == d.Size && a.sum == d.SHA256
}

// checkFolder matches the expected deliveries of one folder with its files.
func checkFolder(f *Folder, ds []convert.Delivery, opt Options) error {
	sort.Slice(ds, func(i, j int) bool {
		if ds[i].Line != ds[j].Line {
			return ds[i].Line < ds[j].Line
		}
		return ds[i].Key.N < ds[j].Key.N
	})
	entries, err := maildir.ScanFolder(f.Dest)
	if errors.Is(err, fs.ErrNotExist) {
		f.add(opt, Problem{Kind: MissingFolder, File: f.Dest,
			Detail: fmt.Sprintf("folder %s is missing: none of its %d messages is there", f.Folder, len(ds))})
		return nil
	}
	if err != nil {
		return err
	}
	byKey := map[maildir.Key][]*actual{}
	byHash := map[[16]byte][]*convert.Delivery{}
	all := make([]*actual, 0, len(entries))
	for _, e := range entries {
		a := &actual{e: e, path: filepath.Join(f.Dest, e.Sub, e.Name)}
		all = append(all, a)
		if e.Ours {
			byKey[e.Key] = append(byKey[e.Key], a)
		}
	}
	bySum := map[[32]byte]*convert.Delivery{}
	for i := range ds {
		d := &ds[i]
		byHash[d.Key.Hash] = append(byHash[d.Key.Hash], d)
		bySum[d.SHA256] = d
	}
	prim := make([]*actual, len(ds)) // the file of each message (nil: none)
	good := make([]bool, len(ds))    // present once, right bytes, flags, mtime (and UID)
	for i := range ds {
		d := &ds[i]
		cands := byKey[d.Key]
		if len(cands) == 0 {
			f.add(opt, Problem{Kind: Deleted, Line: d.Line, File: filepath.Join(f.Dest, d.Subdir, d.Name),
				Detail: fmt.Sprintf("no file for this message (%d bytes) in %s", d.Size, f.Folder)})
			continue
		}
		// the file that is this message: same content, best with the flags it was given
		want := flagSet(maildir.Entry{Sub: d.Subdir, Info: d.Info})
		var primary *actual
		for _, a := range cands {
			if a.same(d) && (primary == nil || flagSet(a.e) == want && flagSet(primary.e) != want) {
				primary = a
			}
		}
		if primary == nil {
			primary = cands[0]
			detail := fmt.Sprintf("content differs from the message: %d bytes, expected %d", primary.size, d.Size)
			if primary.err != nil {
				detail = "cannot read: " + primary.err.Error()
			} else if primary.size == d.Size {
				detail = fmt.Sprintf("content differs from the message (same size, %d bytes)", d.Size)
			}
			f.add(opt, Problem{Kind: ChangedBytes, Line: d.Line, File: primary.path, Detail: detail})
		}
		primary.used = true
		prim[i] = primary
		ok := primary.same(d)
		for _, a := range cands {
			if a == primary {
				continue
			}
			a.used = true
			detail := "a second file for this message"
			if !a.same(d) {
				detail += ", and its content differs"
			}
			f.add(opt, Problem{Kind: Duplicated, Line: d.Line, File: a.path, Detail: detail + "; the first is " + primary.e.Rel()})
		}
		if primary.err != nil {
			continue
		}
		if !primary.mtime.Truncate(time.Second).Equal(d.MTime.Truncate(time.Second)) {
			ok = false
			f.add(opt, Problem{Kind: WrongMTime, Line: d.Line, File: primary.path,
				Detail: fmt.Sprintf("mtime (INTERNALDATE) %s, expected %s", stamp(primary.mtime), stamp(d.MTime))})
		}
		if got := flagSet(primary.e); got != want {
			ok = false
			f.add(opt, Problem{Kind: FlagsChanged, Line: d.Line, File: primary.path,
				Detail: fmt.Sprintf("flags %q, the conversion gave %q", got, d.Info)})
		}
		good[i] = ok && len(cands) == 1
	}
	for _, a := range all {
		if a.used {
			continue
		}
		if a.e.Ours {
			if dd := byHash[a.e.Key.Hash]; len(dd) > 0 && a.same(dd[0]) {
				f.add(opt, Problem{Kind: Duplicated, Line: dd[0].Line, File: a.path,
					Detail: fmt.Sprintf("another copy of the message (occurrence %d of a message the source has %d times)", a.e.Key.N+1, len(dd))})
				continue
			}
			f.add(opt, Problem{Kind: Extra, File: a.path, Detail: "a file named by mb2md that no message of the source explains"})
			continue
		}
		if a.load(); a.err == nil {
			if d := bySum[a.sum]; d != nil && a.size == d.Size {
				f.add(opt, Problem{Kind: Duplicated, Line: d.Line, File: a.path,
					Detail: "a copy of this message under another name"})
				continue
			}
		}
		f.add(opt, Problem{Kind: Foreign, File: a.path, Detail: "a file not written by mb2md (delivered or copied since the conversion?)"})
	}
	if !opt.Convert.Compat {
		if err := checkUIDs(f, ds, prim, good, opt); err != nil {
			return err
		}
	}
	for _, g := range good {
		if g {
			f.OK++
		}
	}
	return nil
}

// checkUIDs checks what IMAP clients and POP3 UIDLs depend on: every message file is in the
// folder's dovecot-uidlist, a message keeps its own X-UID, UIDs ascend in mbox order (the
// order clients saw) and UIDVALIDITY is the source's. ds are sorted by source line, prim[i]
// is the file of ds[i]; good[i] is cleared for a message with a wrong UID.
func checkUIDs(f *Folder, ds []convert.Delivery, prim []*actual, good []bool, opt Options) error {
	if len(ds) == 0 {
		return nil
	}
	l, err := maildir.ReadUIDList(f.Dest)
	if errors.Is(err, fs.ErrNotExist) {
		f.add(opt, Problem{Kind: UIDListMissing, File: filepath.Join(f.Dest, maildir.UIDListName),
			Detail: fmt.Sprintf("no dovecot-uidlist: Dovecot will give the %d messages new UIDs, and IMAP and POP3 clients download them all again", len(ds))})
		return nil
	}
	if err != nil {
		return err
	}
	if v := ds[0].UIDValidity; v != 0 && l.UIDValidity != v {
		f.add(opt, Problem{Kind: UIDValidityChanged, File: filepath.Join(f.Dest, maildir.UIDListName),
			Detail: fmt.Sprintf("UIDVALIDITY %d, the source's X-IMAPbase has %d: clients drop their cache of the folder", l.UIDValidity, v)})
	}
	var prev uint32
	var prevLine int64
	for i := range ds {
		d, a := &ds[i], prim[i]
		if a == nil || d.UID == 0 {
			continue
		}
		uid, listed := l.Lookup(a.e.Name)
		switch {
		case !listed:
			good[i] = false
			f.add(opt, Problem{Kind: UIDMissing, Line: d.Line, File: a.path,
				Detail: "not in dovecot-uidlist: Dovecot will give it a new UID, and clients download it again"})
			continue
		case d.UIDKept && uid != d.UID:
			good[i] = false
			f.add(opt, Problem{Kind: UIDChanged, Line: d.Line, File: a.path,
				Detail: fmt.Sprintf("UID %d, its X-UID is %d", uid, d.UID)})
		}
		if uid <= prev {
			good[i] = false
			f.add(opt, Problem{Kind: UIDOrder, Line: d.Line, File: a.path,
				Detail: fmt.Sprintf("UID %d is not above UID %d of the message before it (line %d): clients see the messages in another order", uid, prev, prevLine)})
		}
		prev, prevLine = uid, d.Line
	}
	return nil
}

// flagSet is the set of flags a Maildir name stands for, as a sorted string; a message in new/
// has none.
func flagSet(e maildir.Entry) string {
	if e.Sub == "new" && !e.HasInfo {
		return ""
	}
	b := []byte(e.Info)
	sort.Slice(b, func(i, j int) bool { return b[i] < b[j] })
	out := b[:0]
	for i, c := range b {
		if i > 0 && c == b[i-1] {
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

func stamp(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// Text is the text form of the report: one line per problem and a summary line.
func Text(r *Report) string {
	var b strings.Builder
	for _, f := range r.Folders {
		for _, p := range f.Problems {
			sev := "note"
			if p.Difference {
				sev = "difference"
			}
			if p.Kind == SourceError {
				sev = "error"
			}
			fmt.Fprintf(&b, "mb2md: %s: %s: %s: %s", sev, strings.ReplaceAll(string(p.Kind), "_", " "), f.Folder, p.Detail)
			if pos := p.Position(); pos != "" && p.Kind != SourceError {
				fmt.Fprintf(&b, " (source %s", pos)
				if p.File != "" {
					fmt.Fprintf(&b, ", file %s", p.File)
				}
				b.WriteString(")")
			} else if p.File != "" && p.Kind != SourceError {
				fmt.Fprintf(&b, " (file %s)", p.File)
			}
			b.WriteByte('\n')
		}
	}
	verdict := "all good"
	switch {
	case r.SourceErrors > 0:
		verdict = fmt.Sprintf("incomplete: %d sources could not be read", r.SourceErrors)
	case r.Differences > 0:
		verdict = fmt.Sprintf("%d differences", r.Differences)
	}
	var kinds []string
	for k, n := range r.Counts {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(kinds)
	extra := ""
	if len(kinds) > 0 {
		extra = " (" + strings.Join(kinds, " ") + ")"
	}
	fmt.Fprintf(&b, "mb2md: verified %d folders in %s: %d messages, %d ok; %s%s\n",
		len(r.Folders), r.Dest, r.Messages, r.OK, verdict, extra)
	return b.String()
}
