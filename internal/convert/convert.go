// Package convert wires the pieces together: source plan → mbox reader → flags and dates →
// Maildir writer. It emits results to an Observer and never prints.
package convert

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mb2md/mb2md/internal/datefix"
	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/mailflag"
	"github.com/mb2md/mb2md/internal/mbox"
	"github.com/mb2md/mb2md/internal/source"
)

// Options control a conversion. The zero value is not usable: Loc and Now must be set.
type Options struct {
	Format mbox.Format
	Loc    *time.Location // zone for From_ dates without one
	Now    time.Time      // "now" for the date policy
	Sync   maildir.SyncMode
	UTF8   bool // folder names in UTF-8 (Dovecot :UTF-8) instead of modified UTF-7
	// BufferLimit is how much of a message is held in memory before it is streamed to a temp
	// file (default 1 MiB).
	BufferLimit int
}

// Warning is a problem found in a source, with its position.
type Warning struct {
	Line    int64  `json:"line"`
	Message string `json:"message"`
}

// Result is the outcome for one mailbox.
type Result struct {
	Source          string         `json:"source"`
	Folder          string         `json:"folder"`
	Dest            string         `json:"dest"`
	Format          string         `json:"format"`
	Messages        int            `json:"messages"`
	Written         int            `json:"written"`
	SkippedExisting int            `json:"skipped_existing"`
	Bytes           int64          `json:"bytes"`
	New             int            `json:"new"`
	Cur             int            `json:"cur"`
	Flags           map[string]int `json:"flags"`
	DateSources     map[string]int `json:"date_sources"`
	Warnings        []Warning      `json:"warnings"`
	Error           string         `json:"error,omitempty"`
	NotMbox         bool           `json:"not_mbox,omitempty"`
}

// Observer receives results as they happen. Implementations must be safe for use from one
// goroutine at a time (Run calls them sequentially).
type Observer interface {
	MailboxDone(r *Result)
}

// ErrInterrupted is returned when the context was cancelled.
var ErrInterrupted = errors.New("interrupted")

// hiddenHeaders are the mbox bookkeeping headers Dovecot hides from IMAP clients.
var hiddenHeaders = []string{"Status", "X-Status", "X-Keywords", "X-UID", "X-IMAP", "X-IMAPbase", "Content-Length"}

var capturedHeaders = []string{"Status", "X-Status", "X-Keywords", "X-UID", "X-IMAP", "X-IMAPbase",
	"X-Mozilla-Status", "X-Evolution", "Received", "Date"}

// FolderName is the folder as an IMAP client shows it ("INBOX", "lists/debian").
func FolderName(comps []string) string {
	if len(comps) == 0 {
		return "INBOX"
	}
	return strings.Join(comps, "/")
}

// Run converts every mailbox of the plan. It returns the results in plan order; an error is
// returned only for failures that stop the whole run (the destination root cannot be made,
// interruption).
func Run(ctx context.Context, plan *source.Plan, opt Options, obs Observer) ([]*Result, error) {
	if opt.BufferLimit <= 0 {
		opt.BufferLimit = 1 << 20
	}
	if err := maildir.Ensure(plan.Dest, false); err != nil {
		return nil, err
	}
	var results []*Result
	used := map[string]string{} // dest dir → source that filled it
	for _, mb := range plan.Mailboxes {
		if err := ctx.Err(); err != nil {
			return results, ErrInterrupted
		}
		dir := filepath.Join(plan.Dest, maildir.FolderDir(mb.Folder, maildir.NameOptions{UTF8: opt.UTF8}))
		r := &Result{Source: mb.Path, Folder: FolderName(mb.Folder), Dest: dir, Format: opt.Format.String(),
			Flags: map[string]int{}, DateSources: map[string]int{}}
		if mb.Path == "" {
			// a directory: an empty folder, as Dovecot and mb2md show it
			r.Source = filepath.Join(plan.Source, mb.Rel)
			if err := maildir.Ensure(dir, len(mb.Folder) > 0); err != nil {
				r.Error = err.Error()
			}
		} else if prev, ok := used[dir]; ok {
			r.Error = fmt.Sprintf("%s maps to the same folder %q as %s; rename one of them (nothing of it was converted, the two are never merged)", mb.Path, r.Folder, prev)
		} else {
			used[dir] = mb.Path
			err := convertOne(ctx, mb, dir, opt, r)
			if errors.Is(err, ErrInterrupted) {
				obs.MailboxDone(r)
				return append(results, r), err
			}
			switch {
			case err != nil && r.NotMbox && !plan.Single:
				// in a folder directory a file that is not an mbox is reported and skipped,
				// as mb2md and Dovecot skip it (exit status 0)
				r.Warnings = append(r.Warnings, Warning{Message: err.Error()})
			case err != nil:
				r.Error = err.Error()
			}
		}
		results = append(results, r)
		obs.MailboxDone(r)
	}
	return results, nil
}

func convertOne(ctx context.Context, mb source.Mailbox, dir string, opt Options, r *Result) error {
	f, err := os.Open(mb.Path)
	if err != nil {
		return fmt.Errorf("open %s: %w; check that it exists and is readable", mb.Path, unwrap(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", mb.Path, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file; only mbox files can be converted", mb.Path)
	}
	loc := opt.Loc
	rd := mbox.NewReader(f, mbox.Options{
		Format: opt.Format,
		IsSeparator: func(line []byte) bool {
			_, _, ok := datefix.DovecotFromDate(line, loc)
			return ok
		},
		Strip:   hiddenHeaders,
		Capture: capturedHeaders,
	})
	msg, rerr := rd.Next()
	var fe *mbox.FormatError
	if errors.As(rerr, &fe) {
		r.NotMbox = true
		return fmt.Errorf("%s:%d: not an mbox file: %s; nothing converted from it", mb.Path, fe.Line, fe.Reason)
	}
	if rerr != nil && rerr != io.EOF {
		return fmt.Errorf("read %s: %w", mb.Path, rerr)
	}
	if err := maildir.Ensure(dir, len(mb.Folder) > 0); err != nil {
		return err
	}
	w, err := maildir.Open(dir, maildir.Options{Sync: opt.Sync, UID: -1, GID: -1})
	if err != nil {
		return err
	}
	policy := datefix.Policy{Now: opt.Now, Loc: opt.Loc}
	c := &mailboxConv{w: w, r: r, policy: policy, mtime: st.ModTime(), path: mb.Path, seen: map[[16]byte]uint32{},
		buf: make([]byte, 0, opt.BufferLimit)}
	for ; rerr == nil; msg, rerr = rd.Next() {
		if ctx.Err() != nil {
			w.Abort()
			c.addReaderWarnings(rd)
			return ErrInterrupted
		}
		if err := c.message(msg); err != nil {
			w.Abort()
			c.addReaderWarnings(rd)
			return err
		}
	}
	c.addReaderWarnings(rd)
	if rerr != io.EOF {
		w.Abort()
		return fmt.Errorf("read %s: %w", mb.Path, rerr)
	}
	if err := w.Close(); err != nil {
		return err
	}
	return nil
}

type mailboxConv struct {
	w      *maildir.Writer
	r      *Result
	policy datefix.Policy
	mtime  time.Time
	path   string
	seen   map[[16]byte]uint32
	buf    []byte
}

func (c *mailboxConv) addReaderWarnings(rd *mbox.Reader) {
	for _, w := range rd.Warnings() {
		c.r.Warnings = append(c.r.Warnings, Warning{Line: w.Line, Message: w.Message})
	}
}

func (c *mailboxConv) warn(line int64, format string, args ...any) {
	c.r.Warnings = append(c.r.Warnings, Warning{Line: line, Message: fmt.Sprintf(format, args...)})
}

// message converts one message: it is read into the buffer (hashing it); if it does not fit,
// the rest is streamed into the temp file.
func (c *mailboxConv) message(msg *mbox.Message) error {
	h := sha256.New()
	c.buf = c.buf[:0]
	var tmp *maildir.Temp
	fail := func(err error) error {
		if tmp != nil {
			_ = tmp.Abort()
		}
		return err
	}
	for {
		if len(c.buf) == cap(c.buf) {
			if tmp == nil {
				var err error
				if tmp, err = c.w.Create(); err != nil {
					return err
				}
			}
			if _, err := tmp.Write(c.buf); err != nil {
				return fail(err)
			}
			h.Write(c.buf)
			c.buf = c.buf[:0]
		}
		n, err := msg.Read(c.buf[len(c.buf):cap(c.buf)])
		c.buf = c.buf[:len(c.buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("read %s:%d: %w", c.path, msg.Line, err))
		}
	}
	h.Write(c.buf)
	if msg.Seq == 1 && hasField(msg.Fields, "X-IMAP") {
		// The UW-IMAP/Dovecot pseudo message holding folder data: Dovecot hides it.
		c.warn(msg.Line, "folder-data pseudo message (X-IMAP) not converted, as Dovecot hides it")
		return fail(nil)
	}
	c.r.Messages++
	var key maildir.Key
	copy(key.Hash[:], h.Sum(nil))
	key.N = c.seen[key.Hash]
	c.seen[key.Hash]++

	headers := make([]mailflag.Header, 0, len(msg.Fields))
	var received, date string
	for _, f := range msg.Fields {
		headers = append(headers, mailflag.Header{Name: f.Name, Value: f.Value})
		switch strings.ToLower(f.Name) {
		case "received":
			received = f.Value
		case "date":
			if date == "" {
				date = f.Value
			}
		}
	}
	flags := mailflag.Parse(headers)
	t, src := c.policy.Resolve(datefix.Inputs{FromLine: msg.FromLine, Received: received, Date: date, FileMTime: c.mtime})
	c.r.DateSources[src.String()]++
	if src != datefix.FromLine {
		c.warn(msg.Line, "From_ line date unusable; INTERNALDATE taken from the %s", strings.ReplaceAll(src.String(), "_", " "))
	}
	if flags.FromClientHeaders {
		c.r.Flags["from_client_headers"]++
	}
	subdir := flags.Subdir()
	info := flags.Info()

	if tmp == nil && c.w.Has(key) {
		c.r.SkippedExisting++
		return nil
	}
	if tmp == nil {
		var err error
		if tmp, err = c.w.Create(); err != nil {
			return err
		}
	}
	if len(c.buf) > 0 {
		if _, err := tmp.Write(c.buf); err != nil {
			return fail(err)
		}
	}
	size := tmp.Size()
	err := tmp.Commit(key, t, t, subdir, info)
	tmp = nil
	if errors.Is(err, maildir.ErrExists) {
		c.r.SkippedExisting++
		return nil
	}
	if err != nil {
		return err
	}
	c.r.Written++
	c.r.Bytes += size
	if subdir == "new" {
		c.r.New++
	} else {
		c.r.Cur++
	}
	for _, l := range info {
		c.r.Flags[string(l)]++
	}
	return nil
}

func hasField(fs []mbox.Field, name string) bool {
	for _, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
