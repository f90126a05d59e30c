// Package mbox is a streaming mbox splitter that splits a mailbox exactly where
// Dovecot 2.3's mbox driver (istream-raw-mbox.c, mbox-sync-parse.c) splits it.
//
// It knows nothing about dates, flags or Maildir: whether a "From " line is a
// message separator is decided by Options.IsSeparator, which the converter
// supplies (Dovecot's rule: the From_ line's date parses).
//
// Memory use is bounded whatever the size of a message, a header line, a From_
// line or the file: input is read through one fixed buffer and processed in
// chunks.
package mbox

import (
	"fmt"
	"strings"
)

// Format selects the splitting rules.
type Format int

// Supported formats.
const (
	// Auto follows Dovecot: a separator is "\nFrom " + a line accepted by
	// IsSeparator (no blank line needed before it); Content-Length is honoured
	// when it points exactly at such a separator (or at the final newline).
	Auto Format = iota
	// MboxO splits at "From " lines preceded by an empty line; no date check,
	// no Content-Length, no unquoting.
	MboxO
	// MboxRD splits like MboxO and removes one '>' from lines matching ^>+From .
	MboxRD
	// MboxCL trusts Content-Length when it fits (the length must be followed by
	// a From_ line or the end of the file); otherwise it splits like MboxO.
	MboxCL
	// MboxCL2 behaves like MboxCL.
	MboxCL2
)

var formatNames = [...]string{"auto", "mboxo", "mboxrd", "mboxcl", "mboxcl2"}

// ParseFormat parses "auto", "mboxo", "mboxrd", "mboxcl" or "mboxcl2"
// (case-insensitive).
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Format(i), nil
		}
	}
	return Auto, fmt.Errorf("unknown mbox format %q: use auto, mboxo, mboxrd, mboxcl or mboxcl2", s)
}

// String returns the name accepted by ParseFormat.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Options configures a Reader.
type Options struct {
	Format Format
	// IsSeparator reports whether a line that starts with "From " is a message
	// separator (Auto format only). line is the whole line without its line end
	// (the CR of a CRLF removed), cut to MaxFromLine bytes when longer. It is a
	// view into the reader's buffer: do not keep it. nil: every "From " line is
	// one. It is called only for lines that start with "From " at the start of
	// a line.
	IsSeparator func(line []byte) bool
	// Strip lists header names (case-insensitive, ASCII) removed from the
	// content stream together with their continuation lines, in the header
	// section only.
	Strip []string
	// Capture lists header names (case-insensitive) whose values are recorded
	// in Message.Fields (header section only; stripped or not). Values are
	// unfolded (the line end before a continuation line is dropped, its
	// leading white space kept), leading white space after the colon is
	// trimmed, and at most MaxFieldLen bytes are kept (the first ones). All
	// occurrences are kept in order, at most 64 per name; for "Received" the
	// last 64 are kept.
	Capture []string
}

// MaxFieldLen is the number of bytes kept of a captured header value.
const MaxFieldLen = 8192

// MaxFromLine is the number of bytes kept of a From_ line (Message.FromLine)
// and the most given to Options.IsSeparator.
const MaxFromLine = 4096

// maxFieldsPerName bounds the captured occurrences of one header name.
const maxFieldsPerName = 64

// Field is one captured header field.
type Field struct {
	Name      string // the name as given in Options.Capture
	Value     string // unfolded, leading white space trimmed, at most MaxFieldLen bytes
	Line      int64  // 1-based input line number of the field's first line
	Truncated bool   // the value was longer than MaxFieldLen
}

// Warning is a non-fatal finding about the input.
type Warning struct {
	Line    int64 // 1-based input line number
	Offset  int64 // byte offset in the input
	Message string
}

// FormatError reports that the input is not an mbox file.
type FormatError struct {
	Offset int64
	Line   int64
	Reason string
}

func (e *FormatError) Error() string {
	return "not an mbox file: " + e.Reason
}

// Message is one message of the mailbox. Its content is read with Read; the
// fields marked below are complete once Read returned io.EOF.
type Message struct {
	Seq           int    // 1-based position in the mailbox
	Offset        int64  // byte offset of the From_ line in the input
	Line          int64  // 1-based line number of the From_ line
	FromLine      []byte // the From_ line without line end; at most MaxFromLine bytes
	FromTruncated bool   // the From_ line was longer than MaxFromLine

	// Set once the content was read to io.EOF:
	Fields            []Field // captured headers
	Size              int64   // content bytes delivered
	LF                int64   // '\n' bytes among them (counted with the line numbers)
	HeaderEnded       bool    // a blank line ended the header section
	ContentLengthUsed bool    // the message ended where its Content-Length said

	r         *Reader
	fieldRoom *[8]Field // room for Fields in the Message's own allocation (see messageBox)
}

// Read streams the message content: everything after the From_ line up to the
// separator, CRLF line ends turned into LF (a lone CR kept; "\r\r\n" becomes
// "\r\n"), the separator newline removed, stripped headers removed and (MboxRD
// only) one '>' removed from lines matching ^>+From .
func (m *Message) Read(p []byte) (int, error) {
	r := m.r
	if r == nil || r.cur != m {
		return 0, errStale
	}
	if r.ms.ended {
		return 0, ioEOF
	}
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := r.produce(p)
	if err != nil && err != ioEOF {
		r.err = err
	}
	return n, err
}
