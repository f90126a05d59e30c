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
	tmp   Temp
	h     maildir.Fingerprint
	flags map[byte]bool

	received, date []byte
	inReceived     bool
	haveDate       bool
}

// Write implements io.Writer: the content goes to a temp file (created on the first byte)
// and into the fingerprint.
func (m *compatMsg) Write(p []byte) (int, error) {
	if m.tmp == nil {
		t, err := m.c.sink.Create()
		if err != nil {
			return 0, err
		}
		m.tmp = t
	}
	n, err := m.tmp.Write(p)
	m.h.Write(p[:n])
	return n, err
}

func (m *compatMsg) abort() {
	if m.tmp != nil {
		_ = m.tmp.Abort()
		m.tmp = nil
	}
}

// header takes one header-phase line: flags as mailflag.Compat maps them (the mapping is per
// letter, so pooling the results of single lines equals pooling the lines), and the last
// Received: and first Date: values, unfolded and bounded, for the date fallback.
func (m *compatMsg) header(line []byte) {
	for _, l := range []byte(mailflag.Compat([]string{string(line)})) {
		m.flags[l] = true
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
		mtime: st.ModTime(), path: mb.Path, claimed: map[maildir.Key]bool{}, delivered: delivered, progress: opt.Progress}
	fail := func(err error) error {
		if cur != nil {
			cur.abort()
		}
		sink.Abort()
		for _, w := range rd.Warnings() {
			r.Warnings = append(r.Warnings, Warning{Line: w.Line, Message: w.Message})
		}
		return err
	}
	for {
		if ctx.Err() != nil {
			return fail(ErrInterrupted)
		}
		cur = &compatMsg{c: c, flags: map[byte]bool{}}
		msg, err := rd.Next(cur)
		if err == io.EOF {
			break
		}
		var fe *mbox.FormatError
		if errors.As(err, &fe) {
			r.NotMbox = true
			return fail(fmt.Errorf("%s:%d: not an mbox file: %s; nothing converted from it", mb.Path, fe.Line, fe.Reason))
		}
		if err != nil {
			return fail(fmt.Errorf("read %s: %w", mb.Path, err))
		}
		if err := c.compatDeliver(cur, msg); err != nil {
			return fail(err)
		}
	}
	cur = nil
	for _, w := range rd.Warnings() {
		r.Warnings = append(r.Warnings, Warning{Line: w.Line, Message: w.Message})
	}
	sortWarnings(r.Warnings)
	if err := sink.Close(); err != nil {
		return err
	}
	if mw, ok := sink.(metaWriter); ok && mw.WritesMeta() && delivered != nil {
		return delivered.Save()
	}
	return nil
}

// compatDeliver dates and delivers one message read by the MB2MDReader.
func (c *mailboxConv) compatDeliver(m *compatMsg, msg *mbox.MB2MDMessage) error {
	if msg.Dummy {
		m.abort()
		c.warn(msg.Line, "UW-IMAP folder-data pseudo message (Subject %q) not converted, as mb2md does", mbox.UWDummySubject)
		return nil
	}
	if m.tmp == nil { // an empty message
		if _, err := m.Write(nil); err != nil {
			return err
		}
	}
	t, src := c.policy.Resolve(datefix.Inputs{FromLine: msg.FromLine, Received: string(m.received),
		Date: string(m.date), FileMTime: c.mtime})
	c.r.Messages++
	c.r.DateSources[src.String()]++
	if src != datefix.FromLine {
		c.warn(msg.Line, "From_ line date %q cannot be parsed by Date::Parse: mb2md 3.20 would have set mtime 0 (1970-01-01, bug B2); taken from the %s instead (%s)",
			datefix.MB2MDDateString(string(msg.FromLine)), strings.ReplaceAll(src.String(), "_", " "), t.UTC().Format(time.RFC3339))
	}
	if msg.EndedInHeaders {
		c.warn(msg.Line, "the file ends inside this message's headers (no blank line after them): mb2md 3.20 would have lost this message and given its date to the previous one (bug B4); it is kept, with its own date")
	}
	j := &job{tmp: m.tmp, hashed: true, t: t, subdir: "cur", info: m.info(), line: msg.Line}
	j.key.Hash = m.h.Sum()
	m.tmp = nil
	exists, deleted, _, err := c.claim(j)
	if deleted {
		_ = j.tmp.Abort()
		c.r.SkippedDeleted++
		return nil
	}
	if err != nil || exists {
		_ = j.tmp.Abort()
		if exists {
			c.count(j, false, 0)
		}
		return err
	}
	return c.deliver(j)
}

func sortWarnings(ws []Warning) {
	// the reader's and the converter's warnings interleave
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].Line < ws[j].Line })
}

// compatMergeWarning reports a second source of one folder (--compat merges, as mb2md does).
func compatMergeWarning(prev string) Warning {
	return Warning{Message: fmt.Sprintf("merged into the folder also filled from %s; mb2md 3.20 would have overwritten messages of one with the other's where their names collide (bug B5); here nothing is overwritten", prev)}
}
