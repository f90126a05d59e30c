// Package convert wires the pieces together: source plan → mbox reader → flags and dates →
// Maildir writer. It emits results to an Observer and never prints.
package convert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mb2md/mb2md/internal/datefix"
	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/mailflag"
	"github.com/mb2md/mb2md/internal/mbox"
	"github.com/mb2md/mb2md/internal/source"
)

// Options control a conversion. The zero value is not usable: Loc and Now must be set.
type Options struct {
	Format   mbox.Format
	Loc      *time.Location // zone for From_ dates without one
	Now      time.Time      // "now" for the date policy
	Sync     maildir.SyncMode
	UTF8     bool // folder names in UTF-8 (Dovecot :UTF-8) instead of modified UTF-7
	LayoutFS bool // Dovecot's LAYOUT=fs: nested folder directories
	// BufferLimit is how much of a message is held in memory before it is streamed to a temp
	// file (default 48 KiB); Buffers is how many such buffers circulate between the reader
	// and the writers (default 64: more jobs in flight keep both writers busy; measured
	// faster than 32 × 128 KiB with less memory). Memory for message contents is at most
	// their product.
	BufferLimit int
	Buffers     int
	// Jobs is the number of parallel writers per mailbox (default: number of CPUs).
	Jobs int
	// Sink receives the messages; nil means MaildirSink{Options: maildir.Options{Sync: Sync}}.
	Sink Sink
	// Compat reproduces Debian mb2md 3.20's output (see compat.go).
	Compat bool
	// ContentLength is mb2md's -c (compat mode; the default mode always uses Content-Length
	// where Dovecot does).
	ContentLength bool

	// Progress, when set, is told of every message done (written or already there) with its
	// size; it is called from several goroutines and must be quick.
	Progress func(messages int, bytes int64)

	uidValidity *maildir.UIDValidityGen // fresh UIDVALIDITYs for folders without one
}

// Warning is a problem found in a source, with its position.
type Warning struct {
	Line    int64  `json:"line"`
	Message string `json:"message"`
}

// Result is the outcome for one mailbox.
type Result struct {
	Source          string `json:"source"`
	Folder          string `json:"folder"`
	Dest            string `json:"dest"`
	Format          string `json:"format"`
	Messages        int    `json:"messages"`
	Written         int    `json:"written"`
	SkippedExisting int    `json:"skipped_existing"`
	// SkippedDeleted counts messages an earlier run delivered that the user has deleted
	// from the Maildir since: they are not restored.
	SkippedDeleted int            `json:"skipped_deleted"`
	Bytes          int64          `json:"bytes"`
	New            int            `json:"new"`
	Cur            int            `json:"cur"`
	Flags          map[string]int `json:"flags"`
	DateSources    map[string]int `json:"date_sources"`
	Warnings       []Warning      `json:"warnings"`
	Error          string         `json:"error,omitempty"`
	NotMbox        bool           `json:"not_mbox,omitempty"`
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
		opt.BufferLimit = 48 << 10
	}
	if opt.Buffers <= 0 {
		opt.Buffers = 64
	}
	if opt.Jobs <= 0 {
		opt.Jobs = runtime.NumCPU()
	}
	if opt.Sink == nil {
		opt.Sink = MaildirSink{Options: maildir.Options{Sync: opt.Sync, UID: -1, GID: -1}}
	}
	if err := opt.Sink.Root(plan.Dest); err != nil {
		return nil, err
	}
	opt.uidValidity = maildir.NewUIDValidityGen(plan.Dest)
	var results []*Result
	var converted [][]string    // folders that now exist, for the subscriptions
	used := map[string]string{} // dest dir → source that filled it
	for _, mb := range plan.Mailboxes {
		if err := ctx.Err(); err != nil {
			return results, ErrInterrupted
		}
		dir := filepath.Join(plan.Dest, maildir.FolderDir(mb.Folder, maildir.NameOptions{UTF8: opt.UTF8, LayoutFS: opt.LayoutFS}))
		if mb.DirName != "" {
			dir = filepath.Join(plan.Dest, mb.DirName)
		}
		r := &Result{Source: mb.Path, Folder: FolderName(mb.Folder), Dest: dir, Format: opt.Format.String(),
			Flags: map[string]int{}, DateSources: map[string]int{}}
		if mb.Err != "" {
			r.Source = filepath.Join(plan.Source, mb.Rel)
			r.Error = mb.Err
		} else if mb.Path == "" || mb.CompatEmpty {
			// a directory: an empty folder, as Dovecot and mb2md show it
			r.Source = filepath.Join(plan.Source, mb.Rel)
			if fs, err := opt.Sink.Folder(dir, len(mb.Folder) > 0); err != nil {
				r.Error = err.Error()
			} else if err := fs.Close(); err != nil {
				r.Error = err.Error()
			}
		} else if reserved := reservedName(mb.Folder); opt.LayoutFS && reserved != "" {
			r.Error = fmt.Sprintf("%s: folder name %q is one of the Maildir's own directories under --layout fs; rename it or use --layout maildir++", mb.Path, reserved)
		} else if prev, ok := used[dir]; ok && !opt.Compat {
			r.Error = fmt.Sprintf("%s maps to the same folder %q as %s; rename one of them (nothing of it was converted, the two are never merged)", mb.Path, r.Folder, prev)
		} else {
			if prev, ok := used[dir]; ok {
				r.Warnings = append(r.Warnings, compatMergeWarning(prev))
			}
			used[dir] = mb.Path
			convertMailbox := convertOne
			if opt.Compat {
				convertMailbox = convertCompat
			}
			err := convertMailbox(ctx, mb, dir, opt, r)
			if errors.Is(err, ErrInterrupted) {
				obs.MailboxDone(r)
				return append(results, r), err
			}
			switch {
			case err != nil && r.NotMbox && !mb.Required:
				// in a folder directory a file that is not an mbox is reported and skipped,
				// as mb2md and Dovecot skip it (exit status 0)
				r.Warnings = append(r.Warnings, Warning{Message: err.Error()})
			case err != nil:
				r.Error = err.Error()
			}
		}
		results = append(results, r)
		obs.MailboxDone(r)
		if r.Error == "" && !r.NotMbox && len(mb.Folder) > 0 {
			converted = append(converted, mb.Folder)
		}
	}
	if mw, ok := opt.Sink.(metaWriter); ok && mw.WritesMeta() && !opt.Compat && !plan.Single {
		// the source's subscriptions, or, when it has none, every converted folder
		names := plan.Subscribed
		if names == nil {
			names = converted
		}
		if err := writeSubscriptions(plan.Dest, names, opt.UTF8); err != nil {
			return results, err
		}
	}
	return results, nil
}

// reservedName returns the first folder level that a LAYOUT=fs folder cannot have at the
// top: tmp, new or cur are the root's own directories.
func reservedName(comps []string) string {
	if len(comps) > 0 {
		switch comps[0] {
		case "tmp", "new", "cur":
			return comps[0]
		}
	}
	return ""
}

// writeSubscriptions adds the folders to Dovecot's subscriptions file. Names that are
// already modified UTF-7 (as Dovecot and UW-IMAP store them on disk) are decoded first, so
// they are not encoded twice.
func writeSubscriptions(root string, names [][]string, utf8 bool) error {
	if len(names) == 0 {
		return nil
	}
	decoded := make([][]string, len(names))
	for i, n := range names {
		decoded[i] = make([]string, len(n))
		for j, level := range n {
			if maildir.IsMUTF7(level) {
				if d, err := maildir.DecodeMUTF7(level); err == nil {
					level = d
				}
			}
			decoded[i][j] = level
		}
	}
	return maildir.WriteSubscriptions(root, decoded, utf8, '.')
}

func convertOne(ctx context.Context, mb source.Mailbox, dir string, opt Options, r *Result) error {
	f, st, closeSource, err := openMailbox(mb)
	if err != nil {
		return err
	}
	defer closeSource()
	loc := opt.Loc
	froms := &fromCache{}
	rd := mbox.NewReader(f, mbox.Options{
		Format: opt.Format,
		IsSeparator: func(line []byte) bool {
			t, _, ok := datefix.DovecotFromDate(line, loc)
			if ok {
				froms.put(line, t)
			}
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
	sink, err := opt.Sink.Folder(dir, len(mb.Folder) > 0)
	if err != nil {
		return err
	}
	meta, err := openMeta(dir, isBlind(opt.Sink))
	if err != nil {
		sink.Abort()
		return err
	}
	delivered, err := readDelivered(opt.Sink, dir)
	if err != nil {
		sink.Abort()
		return err
	}
	c := &mailboxConv{sink: sink, r: r, policy: datefix.Policy{Now: opt.Now, Loc: opt.Loc}, delivered: delivered, progress: opt.Progress,
		mtime: st.ModTime(), path: mb.Path, meta: meta, froms: froms}
	if mw, ok := sink.(metaWriter); ok && mw.WritesMeta() {
		c.listNew = true
	}
	first := true
	err = c.pipeline(ctx, opt, func(j *job) (bool, error) {
		if !first {
			msg, rerr = rd.Next()
		}
		first = false
		if rerr == io.EOF {
			return false, io.EOF
		}
		if rerr != nil {
			return false, fmt.Errorf("read %s: %w", mb.Path, rerr)
		}
		return c.read(msg, j)
	})
	c.addReaderWarnings(rd)
	if err := closeSink(ctx, sink, err); err != nil {
		return err
	}
	if c.listNew {
		// two independent files: written side by side
		var g errgroup.Group
		g.Go(func() error { return meta.finish(opt.uidValidity) })
		if delivered != nil {
			g.Go(delivered.Save)
		}
		return g.Wait()
	}
	return nil
}

// pipeline runs the conversion of one mailbox: next, called in one goroutine (the reader),
// fills a job with the next message to deliver (false: nothing to deliver for this one;
// io.EOF: no more messages), and opt.Jobs writers deliver the jobs in parallel. Jobs travel
// in batches: one channel hand-off (one goroutine wake-up) per batch rather than per message.
// A batch goes out when it is full or when the reader finds no free job, so the reader
// never waits for jobs it holds itself. Jobs and their buffers circulate: reader → writer →
// free → reader, so memory for contents is bounded by opt.Buffers × opt.BufferLimit.
func (c *mailboxConv) pipeline(ctx context.Context, opt Options, next func(*job) (bool, error)) error {
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan []*job, opt.Jobs*2)
	// free jobs travel in batches too: a writer hands back the batch it was given, once all
	// of it is done; at most one batch per job, so a send never blocks
	free := make(chan []*job, opt.Buffers)
	for i := 0; i < opt.Buffers; i += batchSize {
		b := make([]*job, 0, batchSize)
		for k := i; k < min(i+batchSize, opt.Buffers); k++ {
			b = append(b, &job{buf: make([]byte, 0, opt.BufferLimit), slot: -1, lf: -1})
		}
		free <- b
	}
	reset := func(j *job) { *j = job{buf: j.buf[:0], slot: -1, lf: -1} }
	drop := func(j *job) {
		if j.tmp != nil {
			_ = j.tmp.Abort()
		}
		reset(j)
	}
	for i := 0; i < opt.Jobs; i++ {
		g.Go(func() error {
			var t tally // this writer's counts
			defer func() {
				c.mu.Lock()
				t.addTo(c.r)
				c.mu.Unlock()
			}()
			for batch := range jobs {
				var err error
				for _, j := range batch {
					switch {
					case err != nil || gctx.Err() != nil:
						// stopping: finish nothing more, the sink removes what is not delivered
						drop(j)
					default:
						err = c.deliver(j, &t)
						reset(j)
					}
				}
				free <- batch
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(jobs)
		var stash []*job // free jobs at hand
		batch := make([]*job, 0, batchSize)
		release := func() {
			for _, j := range batch {
				drop(j)
			}
			batch = nil
		}
		send := func() error {
			if len(batch) == 0 {
				return nil
			}
			select {
			case jobs <- batch:
				batch = make([]*job, 0, batchSize)
				return nil
			case <-gctx.Done():
				release()
				return gctx.Err()
			}
		}
		for {
			if len(stash) == 0 {
				select {
				case stash = <-free:
				default:
					// none free: the writers are behind; hand them what is ready first
					if err := send(); err != nil {
						return err
					}
					select {
					case stash = <-free:
					case <-gctx.Done():
						return gctx.Err()
					}
				}
			}
			j := stash[len(stash)-1]
			stash = stash[:len(stash)-1]
			ok, err := next(j)
			if err == io.EOF || err != nil || !ok {
				drop(j) // also removes a temp file next left
				stash = append(stash, j)
			}
			if err == io.EOF {
				return send()
			}
			if err != nil {
				release()
				return err
			}
			if !ok {
				continue
			}
			batch = append(batch, j)
			if len(batch) == batchSize {
				if err := send(); err != nil {
					return err
				}
			}
		}
	})
	err := g.Wait()
	c.mu.Lock()
	c.tally.addTo(c.r)
	c.mu.Unlock()
	// what only the conversion needed goes before the metadata is written
	for len(free) > 0 {
		<-free
	}
	return err
}

// closeSink ends the delivery into a folder after the pipeline returned err: the sink is
// aborted (nothing partial left, delivered messages stay) on an error or an interruption,
// and closed (the last batch delivered) otherwise.
func closeSink(ctx context.Context, sink FolderSink, err error) error {
	if err == nil && ctx.Err() != nil {
		err = ErrInterrupted
	}
	if err != nil {
		sink.Abort()
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		return err
	}
	return sink.Close()
}

// batchSize is how many messages the reader hands to a writer at once.
const batchSize = 16

// job is one message ready to be delivered: its content is in buf, or (for a message larger
// than the buffer) already in tmp with its hash in key.
type job struct {
	buf    []byte
	tmp    Temp
	key    maildir.Key
	hashed bool
	t      time.Time
	subdir string
	info   string
	line   int64  // of the From_ line
	uid    uint32 // IMAP UID for dovecot-uidlist
	slot   int    // its place in folderMeta.files (-1: none)
	lf     int64  // line feeds in buf, counted by the reader (-1: not known)
	// for a dry run's report (see Delivery)
	uidKept     bool
	uidValidity uint32
}

type mailboxConv struct {
	sink   FolderSink
	r      *Result
	policy datefix.Policy
	mtime  time.Time
	path   string

	meta      *folderMeta
	listNew   bool               // the sink writes dovecot-uidlist: files delivered go to meta
	delivered *maildir.Delivered // keys delivered by earlier runs (nil: not tracked)
	progress  func(messages int, bytes int64)

	mu sync.Mutex // guards r

	tally tally // the reader goroutine's counts for r, added to it at the end (see tally)

	headers []mailflag.Header // read's scratch space (reader goroutine only)
	froms   *fromCache        // the From_ dates the reader parsed (reader goroutine only)
}

// tally counts per message what goes into Result, without a lock and without hashing: each
// goroutine of the pipeline counts into its own (the reader into mailboxConv.tally, each
// writer into one of its own), and addTo adds it to r (under mailboxConv.mu) when that
// goroutine is done.
type tally struct {
	messages int
	deleted  int // Result.SkippedDeleted
	skipped  int // Result.SkippedExisting
	written  int
	bytes    int64
	inNew    int
	inCur    int
	flags    [128]int                   // per flag letter of the messages written
	dates    [datefix.FileMTime + 1]int // per datefix.Source
	client   int                        // messages with flags from X-Mozilla-Status / X-Evolution
}

func (t *tally) addTo(r *Result) {
	r.Messages += t.messages
	r.SkippedDeleted += t.deleted
	r.SkippedExisting += t.skipped
	r.Written += t.written
	r.Bytes += t.bytes
	r.New += t.inNew
	r.Cur += t.inCur
	for l, n := range t.flags {
		if n > 0 {
			r.Flags[string(rune(l))] += n
		}
	}
	for s, n := range t.dates {
		if n > 0 {
			r.DateSources[datefix.Source(s).String()] += n
		}
	}
	if t.client > 0 {
		r.Flags["from_client_headers"] += t.client
	}
	*t = tally{}
}

// fromCache remembers the last two lines the reader accepted as separators and their dates:
// the From_ line of the message being converted and that of the next one (the reader finds
// where a message ends before the message is handed over), so the date policy does not
// parse the line a second time. Lines the reader rejects (a "From " line in a body) are not
// kept. A line is recognised by its bytes, so a miss only costs a parse.
type fromCache struct {
	e    [2]fromEntry
	next int
}

type fromEntry struct {
	line []byte
	t    time.Time
}

func (c *fromCache) put(line []byte, t time.Time) {
	e := &c.e[c.next]
	e.line = append(e.line[:0], line...)
	e.t = t
	c.next ^= 1
}

// inputs fills in the From_ date of line when the cache has it.
func (c *fromCache) inputs(in datefix.Inputs) datefix.Inputs {
	for i := range c.e {
		if e := &c.e[i]; e.line != nil && bytes.Equal(e.line, in.FromLine) {
			in.FromKnown, in.FromTime, in.FromOK = true, e.t, true
			break
		}
	}
	return in
}

func (c *mailboxConv) addReaderWarnings(rd *mbox.Reader) {
	for _, w := range rd.Warnings() {
		c.r.Warnings = append(c.r.Warnings, Warning{Line: w.Line, Message: w.Message})
	}
}

func (c *mailboxConv) warn(line int64, format string, args ...any) {
	c.mu.Lock()
	c.r.Warnings = append(c.r.Warnings, Warning{Line: line, Message: fmt.Sprintf(format, args...)})
	c.mu.Unlock()
}

// read takes one message from the reader into j (a fresh job with its buffer); a message
// larger than the buffer is streamed into a temp file right away. It returns false for a
// message that is not converted.
func (c *mailboxConv) read(msg *mbox.Message, j *job) (bool, error) {
	j.line = msg.Line
	var h maildir.Fingerprint
	fail := func(err error) (bool, error) {
		if j.tmp != nil {
			_ = j.tmp.Abort()
			j.tmp = nil
		}
		return false, err
	}
	for {
		if len(j.buf) == cap(j.buf) {
			if j.tmp == nil {
				var err error
				if j.tmp, err = c.sink.Create(); err != nil {
					return false, err
				}
			}
			if _, err := j.tmp.Write(j.buf); err != nil {
				return fail(err)
			}
			h.Write(j.buf)
			j.buf = j.buf[:0]
		}
		n, err := msg.Read(j.buf[len(j.buf):cap(j.buf)])
		j.buf = j.buf[:len(j.buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("read %s:%d: %w", c.path, msg.Line, err))
		}
	}
	if j.tmp != nil {
		if len(j.buf) > 0 {
			if _, err := j.tmp.Write(j.buf); err != nil {
				return fail(err)
			}
			h.Write(j.buf)
			j.buf = j.buf[:0]
		}
		j.key.Hash = h.Sum()
		j.hashed = true
	} else {
		j.lf = msg.LF // the whole content is in buf
	}

	headers := c.headers[:0]
	var received, date string
	for _, f := range msg.Fields {
		headers = append(headers, mailflag.Header{Name: f.Name, Value: f.Value})
		// the reader reports names as spelled in Options.Capture
		switch f.Name {
		case "Received":
			received = f.Value
		case "Date":
			if date == "" {
				date = f.Value
			}
		}
	}
	c.headers = headers
	flags := mailflag.Parse(headers)
	if !j.hashed {
		var h maildir.Fingerprint
		h.Write(j.buf)
		j.key.Hash = h.Sum()
		j.hashed = true
	}
	exists, deleted, existing, err := c.claim(j)
	if err != nil {
		return fail(err)
	}
	u, err := c.meta.assign(msg.Fields, existing)
	if err != nil {
		return fail(fmt.Errorf("%s:%d: %w", c.path, msg.Line, err))
	}
	if deleted && !u.Pseudo {
		c.tally.messages++
		c.tally.deleted++
		return fail(nil)
	}
	if u.Pseudo {
		// The UW-IMAP/Dovecot pseudo message holding folder data: Dovecot hides it.
		c.warn(msg.Line, "folder-data pseudo message (X-IMAP) not converted, as Dovecot hides it")
		return fail(nil)
	}
	j.uid, j.uidKept, j.uidValidity = u.UID, u.Kept, c.meta.assigner.SourceUIDValidity()
	letters, dropped := c.meta.letters(flags.Keywords)
	for _, d := range dropped {
		c.warn(msg.Line, "keyword %q not kept: a Maildir folder holds at most 26 keywords", d)
	}
	t, src := c.policy.Resolve(c.froms.inputs(datefix.Inputs{FromLine: msg.FromLine, Received: received, Date: date, FileMTime: c.mtime}))
	c.tally.messages++
	c.tally.dates[src]++
	if flags.FromClientHeaders {
		c.tally.client++
	}
	if src != datefix.FromLine {
		c.warn(msg.Line, "From_ line date unusable; INTERNALDATE taken from the %s", strings.ReplaceAll(src.String(), "_", " "))
	}
	j.t, j.subdir, j.info = t, flags.Subdir(), flags.InfoWithKeywords(letters)
	if exists {
		c.count(&c.tally, j, false, 0)
		return fail(nil)
	}
	if c.delivered != nil {
		// listed in mbox order (the same on every run); the list is saved only once every
		// message is delivered
		c.delivered.Record(j.key)
	}
	if c.listNew && j.uid != 0 {
		j.slot = c.meta.reserve()
	}
	return true, nil
}

// deliver writes one new message (its key is claimed); it runs in the writer goroutines,
// each counting into its own t.
func (c *mailboxConv) deliver(j *job, t *tally) error {
	var err error
	if j.tmp == nil {
		if j.tmp, err = c.sink.Create(); err != nil {
			return err
		}
		if j.lf >= 0 {
			// the reader counted the line feeds with its line numbers: no second count
			_, err = j.tmp.WriteCounted(j.buf, j.lf)
		} else {
			_, err = j.tmp.Write(j.buf)
		}
		if err != nil {
			_ = j.tmp.Abort()
			return err
		}
	}
	size, vsize := j.tmp.Size(), j.tmp.VSize()
	if sn, ok := j.tmp.(sourceNoter); ok {
		sn.NoteSource(sourceInfo{line: j.line, uid: j.uid, uidKept: j.uidKept, uidValidity: j.uidValidity})
	}
	err = j.tmp.Commit(j.key, j.t, j.t, j.subdir, j.info)
	if errors.Is(err, maildir.ErrExists) {
		c.count(t, j, false, 0)
		return nil
	}
	if err != nil {
		return err
	}
	if j.slot >= 0 {
		c.meta.recordNew(j.slot, maildir.NewFile{UID: j.uid, Key: j.key, MTime: j.t.Unix(), Size: size, VSize: vsize})
	}
	c.count(t, j, true, size)
	return nil
}

// claim picks the occurrence number N of the message's key: the first key not taken by another
// message of this run that is either free (the message is new) or names an existing file with
// exactly this content (the message was delivered by an earlier run). A fingerprint collision
// with different content just moves on to the next N, so nothing is ever skipped by mistake.
// Identical messages get N = 0, 1, …; which gets which does not matter, the set of keys is the
// same on every run.
//
// It runs in the reader goroutine, in mbox order. For a message delivered before it also
// returns the existing file's path.
//
// deleted is true for a message an earlier run delivered (its key is in the folder's
// delivered list) that is no longer in the Maildir: the user deleted it, it is not restored.
func (c *mailboxConv) claim(j *job) (exists, deleted bool, path string, err error) {
	for n := uint32(0); ; n++ {
		j.key.N = n
		path, st := c.sink.Claim(j.key)
		switch st {
		case maildir.Taken:
			continue
		case maildir.Claimed:
			if c.delivered != nil && c.delivered.Has(j.key) {
				return false, true, "", nil
			}
			return false, false, "", nil
		}
		same, err := sameContent(path, j)
		if err != nil {
			return false, false, "", err
		}
		if same {
			c.sink.Hold(j.key)
			if c.delivered != nil {
				c.delivered.Record(j.key)
			}
			return true, false, path, nil
		}
	}
}

// sameContent compares an existing message file with the job's content.
func sameContent(path string, j *job) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // moved or expunged meanwhile: not the same message
	}
	if err != nil {
		return false, fmt.Errorf("compare with %s: %w; check the permissions of the destination", path, unwrap(err))
	}
	defer f.Close()
	if j.tmp == nil {
		got := make([]byte, len(j.buf)+1)
		n, err := io.ReadFull(f, got)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return false, fmt.Errorf("compare with %s: %w", path, err)
		}
		return n == len(j.buf) && bytes.Equal(got[:n], j.buf), nil
	}
	if cc, ok := j.tmp.(contentComparer); ok {
		return cc.SameFile(path)
	}
	other, err := j.tmp.Open()
	if err != nil {
		return false, err
	}
	defer other.Close()
	return sameReaders(f, other)
}

func sameReaders(a, b io.Reader) (bool, error) {
	ba, bb := make([]byte, 64*1024), make([]byte, 64*1024)
	for {
		na, ea := io.ReadFull(a, ba)
		nb, eb := io.ReadFull(b, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			return eb == io.EOF || eb == io.ErrUnexpectedEOF, nil
		}
		if ea != nil {
			return false, ea
		}
		if eb != nil && eb != io.EOF && eb != io.ErrUnexpectedEOF {
			return false, eb
		}
	}
}

// count notes a message done (written, or already there) in t, the counting goroutine's own.
func (c *mailboxConv) count(t *tally, j *job, written bool, size int64) {
	if c.progress != nil {
		c.progress(1, size)
	}
	if !written {
		t.skipped++
		return
	}
	t.written++
	t.bytes += size
	if j.subdir == "new" {
		t.inNew++
	} else {
		t.inCur++
	}
	for i := 0; i < len(j.info); i++ {
		t.flags[j.info[i]&0x7f]++
	}
}

func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
