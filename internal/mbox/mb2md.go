package mbox

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
)

// This file is the reader of --compat: Debian mb2md 3.20's line state machine (see
// docs/mb2md-3.20.md §4), with its bugs B3 (-c merge), B4 (EOF inside headers) and B10
// (CR-only files) fixed and reported. It is independent of Reader.

// mb2mdChunk is the most of one line held in memory. Longer lines are streamed; what mb2md
// decides from a whole line (the From_ test, the header patterns) is decided from their first
// mb2mdChunk bytes.
const mb2mdChunk = 64 << 10

// UWDummySubject starts the Subject of the UW-IMAP folder-data pseudo message.
const UWDummySubject = "DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA"

// MB2MDOptions configure an MB2MDReader.
type MB2MDOptions struct {
	// ContentLength is mb2md's -c: a "Content-Length: N" header protects N body bytes.
	ContentLength bool
	// HeaderLine, when set, is called with every line of a message's header phase that is
	// written (CRLF folded, without its "\n", at most the first 64 KiB of the line). The
	// slice is only valid during the call.
	HeaderLine func(line []byte)
}

// MB2MDMessage describes a message read by MB2MDReader.Next.
type MB2MDMessage struct {
	Seq           int    // 1-based position in the mailbox
	Line          int64  // 1-based line number of the From_ line
	FromLine      []byte // the From_ line, CRLF folded, without "\n"; at most MaxFromLine bytes
	FromTruncated bool   // the From_ line was longer than MaxFromLine
	Size          int64  // content bytes written
	// Dummy: the first message's Subject starts with UWDummySubject (mb2md deletes it).
	Dummy bool
	// EndedInHeaders: the input ended before the blank line that ends the headers. mb2md
	// 3.20 loses such a message and gives its date to the previous one (bug B4).
	EndedInHeaders bool
}

// MB2MDReader splits an mbox the way mb2md 3.20 does: a message starts at a line matching
// ^From +\S+ .*\d\d:\d\d that follows an empty line (and no Content-Length count is
// pending); the From_ line is not part of the message; in the header phase lines starting
// with "From " are dropped; the blank line ending the headers and the separator line before
// the next From_ line are kept; in the body one '>' is removed from lines starting ">From ";
// "\r\n" line ends become "\n". Memory use is bounded by the 64 KiB line buffer.
type MB2MDReader struct {
	br  *bufio.Reader
	opt MB2MDOptions

	line      int64
	started   bool
	havePend  bool // pend holds the From_ line of the next message
	pend      MB2MDMessage
	seq       int
	prevEmpty bool
	subjDummy bool // the last Subject seen so far (first message only) is the UW one
	err       error

	// -c state
	clDefined bool
	clFold    int64 // count on the CRLF-folded lines (mb2md's)
	clRaw     int64 // count on the input bytes (CRLF files)
	b3Line    int64 // a separator was dropped here while mb2md's "previous empty" was false

	warnings []Warning
}

// NewMB2MDReader returns a reader of r.
func NewMB2MDReader(r io.Reader, opt MB2MDOptions) *MB2MDReader {
	return &MB2MDReader{br: bufio.NewReaderSize(r, mb2mdChunk), opt: opt, prevEmpty: true}
}

// Warnings returns the places where mb2md 3.20 would have lost or merged mail, found so far.
func (r *MB2MDReader) Warnings() []Warning { return r.warnings }

func (r *MB2MDReader) warn(line int64, format string, args ...any) {
	r.warnings = append(r.warnings, Warning{Line: line, Message: fmt.Sprintf(format, args...)})
}

// chunk returns the next piece of the current line; more says the line continues.
func (r *MB2MDReader) chunk() (b []byte, more bool, err error) {
	b, err = r.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return b, true, nil
	case err == io.EOF && len(b) > 0:
		return b, false, nil
	}
	return b, false, err
}

// nextLine reads the first chunk of the next line. A complete line is CRLF-folded in place;
// raw is its input length (for a long line the caller adds the rest).
func (r *MB2MDReader) nextLine() (b []byte, more bool, raw int64, err error) {
	b, more, err = r.chunk()
	if err != nil {
		return nil, false, 0, err
	}
	r.line++
	raw = int64(len(b))
	if !more {
		b = foldCRLF(b)
	}
	return b, more, raw, nil
}

func foldCRLF(b []byte) []byte {
	if n := len(b); n >= 2 && b[n-2] == '\r' && b[n-1] == '\n' {
		b[n-2] = '\n'
		return b[:n-1]
	}
	return b
}

// rest streams the remainder of a long line whose first chunk was first (already
// written by the caller except a held-back final '\r'), to w (nil: discard). It returns the
// input and folded lengths of the whole line.
func (r *MB2MDReader) rest(w io.Writer, first []byte) (raw, fold int64, err error) {
	raw = int64(len(first))
	fold = raw
	heldCR := len(first) > 0 && first[len(first)-1] == '\r'
	for {
		b, more, err := r.chunk()
		if err == io.EOF {
			break
		}
		if err != nil {
			return raw, fold, err
		}
		raw += int64(len(b))
		fold += int64(len(b))
		out := b
		if !more {
			switch {
			case heldCR && len(b) == 1 && b[0] == '\n':
				fold-- // the line ends "\r\n": the held CR is dropped
				heldCR = false
			case len(b) >= 2 && b[len(b)-2] == '\r' && b[len(b)-1] == '\n':
				out = foldCRLF(b)
				fold--
			}
		}
		if heldCR {
			if err := write(w, []byte{'\r'}); err != nil {
				return raw, fold, err
			}
			heldCR = false
		}
		if more && len(out) > 0 && out[len(out)-1] == '\r' {
			out = out[:len(out)-1]
			heldCR = true
		}
		if err := write(w, out); err != nil {
			return raw, fold, err
		}
		if !more {
			return raw, fold, nil
		}
	}
	if heldCR { // the input ended inside a long line that ended in '\r'
		return raw, fold, write(w, []byte{'\r'})
	}
	return raw, fold, nil
}

func write(w io.Writer, b []byte) error {
	if w == nil || len(b) == 0 {
		return nil
	}
	_, err := w.Write(b)
	return err
}

// writeFirst writes the first chunk of a line (from byte skip on): a complete line as is, a
// long line without a final '\r' (rest decides about it).
func writeFirst(w io.Writer, b []byte, more bool, skip int) error {
	out := b[skip:]
	if more && len(out) > 0 && out[len(out)-1] == '\r' {
		out = out[:len(out)-1]
	}
	return write(w, out)
}

// IsMB2MDFromLine reports whether line matches mb2md's ^From +\S+ .*\d\d:\d\d.
func IsMB2MDFromLine(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("From ")) {
		return false
	}
	i := 5
	for i < len(line) && line[i] == ' ' {
		i++
	}
	j := i
	for j < len(line) && !isPerlSpace(line[j]) {
		j++
	}
	if j == i || j >= len(line) || line[j] != ' ' {
		return false
	}
	rest := line[j+1:]
	for k := 0; k+5 <= len(rest); k++ {
		if isDigit(rest[k]) && isDigit(rest[k+1]) && rest[k+2] == ':' && isDigit(rest[k+3]) && isDigit(rest[k+4]) {
			return true
		}
	}
	return false
}

// isPerlSpace is perl's \s on a byte string: [ \t\n\v\f\r].
func isPerlSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isBlank(b []byte, more bool) bool { return !more && len(b) == 1 && b[0] == '\n' }

// loneCRs counts the '\r' bytes of b not directly followed by "\n".
func loneCRs(b []byte) int {
	n := 0
	for i, c := range b {
		if c == '\r' && (i+1 >= len(b) || b[i+1] != '\n') {
			n++
		}
	}
	return n
}

// setPending records the From_ line b (first chunk) that starts the next message and
// discards the rest of a long line.
func (r *MB2MDReader) setPending(b []byte, more bool) error {
	r.pend = MB2MDMessage{Line: r.line}
	from := bytes.TrimSuffix(b, []byte("\n"))
	if more || len(from) > MaxFromLine {
		r.pend.FromTruncated = true
		if len(from) > MaxFromLine {
			from = from[:MaxFromLine]
		}
	}
	r.pend.FromLine = append(r.pend.FromLine[:0:0], from...)
	r.havePend = true
	if more {
		if _, _, err := r.rest(nil, b); err != nil {
			return err
		}
	}
	return nil
}

// Next reads the next message and writes its content to w. It returns io.EOF when there is
// no further message, and a *FormatError when the input is not an mbox by mb2md's test (the
// first line must be a From_ line; an empty input has no messages) or uses CR-only line ends
// (bug B10: mb2md reads such a file as one line and converts nothing, silently).
func (r *MB2MDReader) Next(w io.Writer) (*MB2MDMessage, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.started {
		r.started = true
		b, more, _, err := r.nextLine()
		if err == io.EOF {
			r.err = io.EOF
			return nil, io.EOF
		}
		if err != nil {
			r.err = err
			return nil, err
		}
		if !IsMB2MDFromLine(b) {
			r.err = &FormatError{Line: 1, Reason: "the first line is not a From_ line (mb2md's test ^From +\\S+ .*\\d\\d:\\d\\d)"}
			return nil, r.err
		}
		if loneCRs(b) >= 2 {
			r.err = &FormatError{Line: 1, Reason: "uses CR-only line ends (old Mac format); mb2md 3.20 would have read it as one line and converted 0 messages without a warning (bug B10); convert it with tr '\\r' '\\n' first"}
			return nil, r.err
		}
		if err := r.setPending(b, more); err != nil {
			r.err = err
			return nil, err
		}
		r.prevEmpty = false
	}
	if !r.havePend {
		r.err = io.EOF
		return nil, io.EOF
	}
	msg := r.pend
	r.havePend = false
	r.seq++
	msg.Seq = r.seq
	inHeaders := true
	var cl int64 = -1 // Content-Length of this message's headers, -1 = none
	cw := &countWriter{w: w}
	for {
		b, more, raw, err := r.nextLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.err = err
			return nil, err
		}
		isFrom := IsMB2MDFromLine(b)
		if isFrom && r.prevEmpty && !r.clDefined {
			if r.b3Line > 0 {
				r.warn(r.line, "a new message starts here; mb2md 3.20 would have appended it to the previous one, because it drops the separator line at line %d (end of that Content-Length) without noting that the line was empty (bug B3 of -c)", r.b3Line)
			}
			r.b3Line = 0
			if err := r.setPending(b, more); err != nil {
				r.err = err
				return nil, err
			}
			r.prevEmpty = false
			msg.Size = cw.n
			return &msg, nil
		}
		r.b3Line = 0
		blank := isBlank(b, more)
		if inHeaders {
			if bytes.HasPrefix(b, []byte("From ")) {
				// mb2md drops "From " lines in the header phase
				if more {
					if _, _, err := r.rest(nil, b); err != nil {
						r.err = err
						return nil, err
					}
				}
				r.prevEmpty = false
				continue
			}
			if !blank {
				r.headerLine(b, more, &cl)
				if err := writeFirst(cw, b, more, 0); err != nil {
					r.err = err
					return nil, err
				}
				if more {
					if _, _, err := r.rest(cw, b); err != nil {
						r.err = err
						return nil, err
					}
				}
				r.prevEmpty = false
				continue
			}
			// the blank line ends the headers and is written as the first body line
			inHeaders = false
			if msg.Seq == 1 && r.subjDummy {
				msg.Dummy = true
			}
			if cl >= 0 {
				r.clDefined, r.clFold, r.clRaw = true, cl, cl
			}
			if err := write(cw, b); err != nil {
				r.err = err
				return nil, err
			}
			r.prevEmpty = true
			continue
		}
		// body phase
		if r.clDefined && blank && (r.clFold == 0 || r.clRaw == 0) {
			// the separator line after exactly Content-Length bytes: not written
			if r.clFold != 0 {
				r.warn(r.line, "Content-Length counts CRLF line ends; mb2md 3.20 compares it with the lines after CRLF→LF and would have merged the following messages into this one (bug B3 of -c)")
			}
			r.clDefined = false
			if !r.prevEmpty {
				r.b3Line = r.line
			}
			r.prevEmpty = true // B3 fixed: the dropped line was empty
			continue
		}
		skip := 0
		if bytes.HasPrefix(b, []byte(">From ")) {
			skip = 1
		}
		if err := writeFirst(cw, b, more, skip); err != nil {
			r.err = err
			return nil, err
		}
		fold := int64(len(b))
		if more {
			if raw, fold, err = r.rest(cw, b); err != nil {
				r.err = err
				return nil, err
			}
		}
		if r.clDefined {
			r.clFold -= fold
			r.clRaw -= raw
			if r.clFold < 0 {
				r.clDefined = false
			}
		}
		r.prevEmpty = blank
	}
	// end of input
	r.err = io.EOF
	msg.Size = cw.n
	if inHeaders {
		msg.EndedInHeaders = true
		if msg.Seq == 1 && r.subjDummy {
			msg.Dummy = true
		}
	}
	return &msg, nil
}

// headerLine applies mb2md's header patterns to a written header line (first chunk b).
func (r *MB2MDReader) headerLine(b []byte, more bool, cl *int64) {
	line := bytes.TrimSuffix(b, []byte("\n"))
	if more {
		line = b
	}
	if r.opt.HeaderLine != nil {
		r.opt.HeaderLine(line)
	}
	if v, ok := bytes.CutPrefix(line, []byte("Subject: ")); ok && r.seq == 1 {
		r.subjDummy = bytes.HasPrefix(v, []byte(UWDummySubject))
	}
	if !r.opt.ContentLength || more {
		return
	}
	if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok && len(v) > 0 {
		var n int64
		for _, c := range v {
			if !isDigit(c) {
				return
			}
			if n > (math.MaxInt64-9)/10 {
				n = math.MaxInt64 // perl would use a float; no file is that long
				continue
			}
			n = n*10 + int64(c-'0')
		}
		*cl = n
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
