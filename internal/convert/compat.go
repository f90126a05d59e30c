package convert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/mb2md/mb2md/internal/datefix"
	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/mailflag"
	"github.com/mb2md/mb2md/internal/mbox"
	"github.com/mb2md/mb2md/internal/source"
)

// maxCompatHeader bounds the Received: and Date: values kept for the date fallback.
const maxCompatHeader = 4096

// compatMsg collects what --compat needs of one message while the reader streams it.
type compatMsg struct {
	c     *mailboxConv
	j     *job // the content goes into its buffer, or its temp file once it outgrows it
	h     maildir.Fingerprint
	flags map[byte]bool

	received, date []byte
	inReceived     bool
	haveDate       bool
}

// Write implements io.Writer: the content goes into the job's buffer and, each time the
// message outgrows it, on into a temp file. The reader writes line by line; the buffer
// turns that into large writes and large fingerprint updates (the CRCs are slow on
// short pieces).
func (m *compatMsg) Write(p []byte) (int, error) {
	j := m.j
	n := len(p)
	for len(p) > 0 {
		if len(j.buf) == cap(j.buf) {
			if err := m.spill(); err != nil {
				return 0, err
			}
		}
		k := copy(j.buf[len(j.buf):cap(j.buf)], p)
		j.buf = j.buf[:len(j.buf)+k]
		p = p[k:]
	}
	return n, nil
}

// spill moves the buffered content into the message's temp file (made on the first spill).
func (m *compatMsg) spill() error {
	j := m.j
	if j.tmp == nil {
		t, err := m.c.sink.Create()
		if err != nil {
			return err
		}
		j.tmp = t
	}
	m.h.Write(j.buf)
	if _, err := j.tmp.Write(j.buf); err != nil {
		return err
	}
	j.buf = j.buf[:0]
	return nil
}

// finish completes the fingerprint once the whole message was written: a message that
// outgrew the buffer has the rest of it written to its temp file; a small one stays in the
// buffer for the writer.
func (m *compatMsg) finish() error {
	if m.j.tmp != nil {
		return m.spill()
	}
	m.h.Write(m.j.buf)
	return nil
}

func (m *compatMsg) abort() {
	if m.j.tmp != nil {
		_ = m.j.tmp.Abort()
		m.j.tmp = nil
	}
}

// header takes one header-phase line: flags as mailflag.Compat maps them (the mapping is per
// letter, so pooling the results of single lines equals pooling the lines), and the last
// Received: and first Date: values, unfolded and bounded, for the date fallback.
func (m *compatMsg) header(line []byte) {
	if len(line) > 0 && (line[0] == 'S' || line[0] == 'X' || line[0] == 'x') {
		// only Status:, X-Status:, X-Mozilla-Status: and X-Evolution: carry flags
		for _, l := range []byte(mailflag.Compat([]string{string(line)})) {
			m.flags[l] = true
		}
	}
	if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		if m.inReceived {
			m.received = appendBounded(m.received, line)
		}
		return
	}
	m.inReceived = false
	switch {
	case hasPrefixFold(line, "Received:"):
		m.inReceived = true
		m.received = appendBounded(m.received[:0], line[len("Received:"):])
	case !m.haveDate && hasPrefixFold(line, "Date:"):
		m.haveDate = true
		m.date = appendBounded(m.date[:0], bytes.TrimSpace(line[len("Date:"):]))
	}
}

func appendBounded(dst, p []byte) []byte {
	if room := maxCompatHeader - len(dst); len(p) > room {
		p = p[:max(room, 0)]
	}
	return append(dst, p...)
}

func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && strings.EqualFold(string(b[:len(p)]), p)
}

// info is the Maildir flag string in mb2md's order (F, R, S, T: already ASCII-sorted).
func (m *compatMsg) info() string {
	var b []byte
	for _, l := range []byte("FRST") {
		if m.flags[l] {
			b = append(b, l)
		}
	}
	return string(b)
}

// convertCompat converts one mailbox the way Debian's mb2md 3.20 does (--compat): message
// boundaries, content and flags by mb2md's rules (mbox.MB2MDReader), everything into cur/,
// mtime = atime = the From_ date by Date::Parse, the UW-IMAP pseudo message dropped when it
// is first. Its data-loss bugs are not reproduced but reported in r.Warnings: an unparseable
// date gets the date policy's fallback instead of 0 (B2), -c keeps messages apart (B3), a
// message cut inside its headers at the end of the file is kept with its own date (B4), two
// sources of one folder are merged without overwriting (B5), a CR-only file is reported (B10).
func convertCompat(ctx context.Context, mb source.Mailbox, dir string, opt Options, r *Result) error {
	r.Format = "mb2md"
	f, st, closeSource, err := openMailbox(mb)
	if err != nil {
		return err
	}
	defer closeSource()
	var cur *compatMsg
	rd := mbox.NewMB2MDReader(f, mbox.MB2MDOptions{
		ContentLength: opt.ContentLength,
		HeaderLine:    func(line []byte) { cur.header(line) },
	})
	sink, err := opt.Sink.Folder(dir, len(mb.Folder) > 0)
	if err != nil {
		return err
	}
	delivered, err := readDelivered(opt.Sink, dir)
	if err != nil {
		sink.Abort()
		return err
	}
	c := &mailboxConv{sink: sink, r: r, policy: datefix.Policy{Compat: true, Now: opt.Now, Loc: opt.Loc},
		mtime: st.ModTime(), path: mb.Path, delivered: delivered, progress: opt.Progress}
	err = c.pipeline(ctx, opt, func(j *job) (bool, error) {
		cur = &compatMsg{c: c, j: j, flags: map[byte]bool{}}
		msg, err := rd.Next(cur)
		if err == io.EOF {
			return false, io.EOF
		}
		var fe *mbox.FormatError
		if errors.As(err, &fe) {
			r.NotMbox = true
			return false, fmt.Errorf("%s:%d: not an mbox file: %s; nothing converted from it", mb.Path, fe.Line, fe.Reason)
		}
		if err != nil {
			return false, fmt.Errorf("read %s: %w", mb.Path, err)
		}
		return c.compatRead(cur, msg)
	})
	cur = nil
	for _, w := range rd.Warnings() {
		r.Warnings = append(r.Warnings, Warning{Line: w.Line, Message: w.Message})
	}
	sortWarnings(r.Warnings)
	if err := closeSink(ctx, sink, err); err != nil {
		return err
	}
	if mw, ok := sink.(metaWriter); ok && mw.WritesMeta() && delivered != nil {
		return delivered.Save()
	}
	return nil
}

// compatRead dates one message the MB2MDReader read into m.j and claims its key; false: the
// message is not delivered (the pseudo message, or one already there).
func (c *mailboxConv) compatRead(m *compatMsg, msg *mbox.MB2MDMessage) (bool, error) {
	if msg.Dummy {
		m.abort()
		c.warn(msg.Line, "UW-IMAP folder-data pseudo message (Subject %q) not converted, as mb2md does", mbox.UWDummySubject)
		return false, nil
	}
	t, src := c.policy.Resolve(datefix.Inputs{FromLine: msg.FromLine, Received: string(m.received),
		Date: string(m.date), FileMTime: c.mtime})
	c.tally.messages++
	c.tally.dates[src]++
	if src != datefix.FromLine {
		c.warn(msg.Line, "From_ line date %q cannot be parsed by Date::Parse: mb2md 3.20 would have set mtime 0 (1970-01-01, bug B2); taken from the %s instead (%s)",
			datefix.MB2MDDateString(string(msg.FromLine)), strings.ReplaceAll(src.String(), "_", " "), t.UTC().Format(time.RFC3339))
	}
	if msg.EndedInHeaders {
		c.warn(msg.Line, "the file ends inside this message's headers (no blank line after them): mb2md 3.20 would have lost this message and given its date to the previous one (bug B4); it is kept, with its own date")
	}
	if err := m.finish(); err != nil {
		m.abort()
		return false, err
	}
	j := m.j
	j.hashed, j.t, j.subdir, j.info, j.line = true, t, "cur", m.info(), msg.Line
	j.key.Hash = m.h.Sum()
	exists, deleted, _, err := c.claim(j)
	switch {
	case err != nil:
		m.abort()
		return false, err
	case deleted:
		m.abort()
		c.tally.deleted++
		return false, nil
	case exists:
		m.abort()
		c.count(&c.tally, j, false, 0)
		return false, nil
	}
	if c.delivered != nil {
		c.delivered.Record(j.key) // in mbox order; saved once every message is delivered
	}
	return true, nil
}

func sortWarnings(ws []Warning) {
	// the reader's and the converter's warnings interleave
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].Line < ws[j].Line })
}

// compatMergeWarning reports a second source of one folder (--compat merges, as mb2md does).
func compatMergeWarning(prev string) Warning {
	return Warning{Message: fmt.Sprintf("merged into the folder also filled from %s; mb2md 3.20 would have overwritten messages of one with the other's where their names collide (bug B5); here nothing is overwritten", prev)}
}
