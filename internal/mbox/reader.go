package mbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
)

const (
	bufSize     = 64 << 10 // input buffer
	keepBehind  = 8        // bytes kept before the read position when compacting
	nameLook    = 1024     // look-ahead at the start of a header line
	maxWarnings = 1000
	// look-ahead needed to check a separator: "\r\nFrom " + line + "\n" and the
	// byte before.
	sepLook = 1 + 2 + MaxFromLine + 2
)

var (
	ioEOF         = io.EOF
	errStale      = errors.New("mbox: message read after Next moved to the next message")
	errNoRoom     = errors.New("mbox: buffer full")
	fromSep       = []byte("\nFrom ")
	fromPrefix    = []byte("From ")
	nl            = []byte{'\n'}
	nlGT          = []byte("\n>")
	contentLength = []byte("Content-Length")
)

type verdict int

const (
	vInvalid verdict = iota
	vValid
	vUnknown
)

// Reader splits an mbox stream into messages.
type Reader struct {
	src    io.Reader
	ra     io.ReaderAt // set when src can also be read at offsets
	raBase int64       // offset in ra of input offset 0
	format Format
	isSep  func([]byte) bool
	strip  [][]byte
	capt   []string
	captLC [][]byte
	useCL  bool

	buf    []byte
	base   int64 // input offset of buf[0]
	r, w   int
	eof    bool
	rerr   error // sticky read error
	line   int64 // line number of buf[lineAt]; see lineNo
	lineAt int

	started  bool
	err      error
	cur      *Message
	seq      int
	warnings []Warning
	scratch  []byte
	look     []byte
	capCount []int
	captRecv []bool           // the capture name is "Received"
	names    [256][]nameEntry // header names of interest, by nameSlot

	// captured values of the current message: appended here while the header is read and
	// turned into one string per message (vals) by settleFields
	vals    []byte
	valOff  []valSpan // per entry of fields
	fields  []Field   // the current message's captured fields, copied to its Fields when settled
	settled bool

	ms msgState
}

// msgState is the state of the current message.
type msgState struct {
	hdrOff int64
	// for Message.LF: the line number where the header starts, and the line ends of the
	// stripped header fields (the only ones the content loses)
	hdrLine    int64
	strippedLF int64
	ended      bool

	// where the message ends
	scanPos  int64 // no separator starts before this offset (the '\n' of "\nFrom ")
	endPos   int64 // decided end of the content, -1 while unknown
	endSep   int   // separator bytes after endPos to skip before the next From_ line
	pend     bool  // a separator candidate waits for a decision at pendD
	pendD    int64
	pendQ    int64
	pendSep  int
	clTarget int64 // CL formats: content is trusted to end here, -1 when not

	// content transformation
	inHeader  bool
	lineStart bool
	firstLine bool
	strip     bool
	capIdx    int
	capStart  int // where the value being captured starts in Reader.vals
	capTotal  int64
	capLine   int64
	capOff    int64
	obsSkip   int
	obsCR     bool
	pendingCR bool
	gtRun     bool
	gtPending bool
	bodyStart int64

	// Content-Length
	clOn     bool
	clState  int // 0 before the one optional blank, 1 digits, 2 trailing blanks, 3 broken
	clVal    int64
	clField  int64 // line of the Content-Length field being parsed
	cl       int64 // -1: none
	clLine   int64
	clDone   bool
	clUsed   bool
	clWarned bool
}

// NewReader returns a Reader reading the mbox from rd. When rd also
// implements io.ReaderAt and io.Seeker (an *os.File), Content-Length values
// pointing far ahead are verified with ReadAt; offsets are then relative to
// rd's position when NewReader was called.
func NewReader(rd io.Reader, opt Options) *Reader {
	r := &Reader{src: rd, format: opt.Format, isSep: opt.IsSeparator}
	if r.format < Auto || r.format > MboxCL2 {
		r.format = Auto
	}
	if ra, ok := rd.(io.ReaderAt); ok {
		if s, ok := rd.(io.Seeker); ok {
			if off, err := s.Seek(0, io.SeekCurrent); err == nil {
				r.ra, r.raBase = ra, off
			}
		}
	}
	for _, s := range opt.Strip {
		r.strip = append(r.strip, []byte(s))
	}
	for _, s := range opt.Capture {
		r.capt = append(r.capt, s)
		r.captLC = append(r.captLC, []byte(s))
	}
	r.capCount = make([]int, len(r.capt))
	r.useCL = r.format == Auto || r.format == MboxCL || r.format == MboxCL2
	for _, s := range r.strip {
		r.addName(s).strip = true
	}
	r.captRecv = make([]bool, len(r.capt))
	for i, s := range r.captLC {
		if e := r.addName(s); e.capt < 0 {
			e.capt = i
		}
		r.captRecv[i] = bytes.EqualFold(s, []byte("received"))
	}
	if r.useCL {
		r.addName(contentLength).cl = true
	}
	r.buf = make([]byte, bufSize)
	r.line = 1
	return r
}

// nameEntry says what to do with a header field name.
type nameEntry struct {
	name  []byte
	strip bool
	capt  int  // index in capt of the first matching capture name, -1: none
	cl    bool // Content-Length, honoured by the format
}

// addName returns the entry for name s, adding one.
func (r *Reader) addName(s []byte) *nameEntry {
	b := &r.names[nameSlot(s)]
	for i := range *b {
		if e := &(*b)[i]; len(e.name) == len(s) && bytes.EqualFold(e.name, s) {
			return e
		}
	}
	*b = append(*b, nameEntry{name: s, capt: -1})
	return &(*b)[len(*b)-1]
}

// nameSlot spreads header names over Reader.names by length and first and last letter (case
// folded), so that most names of no interest find an empty slot and the others one entry.
func nameSlot(name []byte) int {
	if len(name) == 0 {
		return 0
	}
	return (len(name)*37 + int(name[0]|0x20)*11 + int(name[len(name)-1]|0x20)) & 255
}

// lookupName returns the entry for a header field name, nil when the name is of no
// interest.
func (r *Reader) lookupName(name []byte) *nameEntry {
	b := r.names[nameSlot(name)]
	for i := range b {
		if e := &b[i]; len(e.name) == len(name) && bytes.EqualFold(e.name, name) {
			return e
		}
	}
	return nil
}

// Warnings returns the warnings collected so far.
func (r *Reader) Warnings() []Warning { return r.warnings }

func (r *Reader) warn(line, off int64, format string, args ...any) {
	if len(r.warnings) > maxWarnings {
		return
	}
	if len(r.warnings) == maxWarnings {
		r.warnings = append(r.warnings, Warning{Line: line, Offset: off, Message: "too many warnings; further warnings suppressed"})
		return
	}
	r.warnings = append(r.warnings, Warning{Line: line, Offset: off, Message: fmt.Sprintf(format, args...)})
}

func (r *Reader) pos() int64 { return r.base + int64(r.r) }

// fill reads more input into the buffer, compacting it first when little room
// is left. It keeps keepBehind bytes before the read position.
func (r *Reader) fill() error {
	if r.rerr != nil {
		return r.rerr
	}
	if r.eof {
		return nil
	}
	if len(r.buf)-r.w < len(r.buf)/4 {
		start := r.r - min(r.r, keepBehind)
		if start > 0 {
			r.lineNo()
			copy(r.buf, r.buf[start:r.w])
			r.w -= start
			r.r -= start
			r.lineAt -= start
			r.base += int64(start)
		}
	}
	if r.w == len(r.buf) {
		return errNoRoom
	}
	for range 100 {
		n, err := r.src.Read(r.buf[r.w:])
		r.w += n
		if err == io.EOF {
			r.eof = true
			return nil
		}
		if err != nil {
			r.rerr = fmt.Errorf("read mbox at byte offset %d: %w", r.base+int64(r.w), err)
			return r.rerr
		}
		if n > 0 {
			return nil
		}
	}
	r.rerr = fmt.Errorf("read mbox at byte offset %d: %w", r.base+int64(r.w), io.ErrNoProgress)
	return r.rerr
}

// consume advances the read position by k buffered bytes.
func (r *Reader) consume(k int) {
	r.r += k
}

// consumeLine is consume for k bytes that hold exactly one line end, at their end: when the
// lines are counted up to the read position, they stay counted without a look at the bytes
// (the header lines of the fast path: lineNo is asked for at each captured field).
func (r *Reader) consumeLine(k int) {
	if r.lineAt == r.r {
		r.line++
		r.lineAt += k
	}
	r.r += k
}

// lineNo returns the line number of the read position. Lines are counted lazily, in
// bulk, here and before the buffer is compacted.
func (r *Reader) lineNo() int64 {
	if r.lineAt < r.r {
		r.line += int64(bytes.Count(r.buf[r.lineAt:r.r], nl))
		r.lineAt = r.r
	}
	return r.line
}

// skip consumes k bytes, reading as needed.
func (r *Reader) skip(k int) error {
	for k > 0 {
		if r.r == r.w {
			if r.eof {
				return nil
			}
			if err := r.fill(); err != nil {
				return err
			}
			continue
		}
		c := min(k, r.w-r.r)
		r.consume(c)
		k -= c
	}
	return nil
}

// Next skips what is left of the current message and returns the next one,
// or io.EOF at the end of the mailbox.
func (r *Reader) Next() (*Message, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.cur != nil {
		if !r.ms.ended {
			if r.scratch == nil {
				r.scratch = make([]byte, 32<<10)
			}
			for !r.ms.ended {
				if _, err := r.produce(r.scratch); err != nil && err != io.EOF {
					r.err = err
					return nil, err
				}
			}
		}
		if err := r.skip(r.ms.endSep); err != nil {
			r.err = err
			return nil, err
		}
		r.cur = nil
	} else if !r.started {
		r.started = true
		if err := r.checkStart(); err != nil {
			r.err = err
			return nil, err
		}
	}
	for r.r == r.w && !r.eof {
		if err := r.fill(); err != nil {
			r.err = err
			return nil, err
		}
	}
	if r.r == r.w {
		r.err = io.EOF
		return nil, io.EOF
	}
	r.seq++
	mb := &messageBox{Message: Message{Seq: r.seq, Offset: r.pos(), Line: r.lineNo(), r: r}}
	m := &mb.Message
	m.FromLine = mb.from[:0]
	m.fieldRoom = &mb.fields
	if err := r.readFromLine(m); err != nil {
		r.err = err
		return nil, err
	}
	if r.seq == 1 && r.format == Auto && r.isSep != nil && !r.isSep(m.FromLine) {
		r.warn(m.Line, m.Offset, "first From_ line %q is not a valid separator (its date does not parse); accepted because it starts the file", clip(m.FromLine))
	}
	r.startMessage(m)
	return m, nil
}

func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}

// checkStart verifies that the input looks like an mbox.
func (r *Reader) checkStart() error {
	for r.w < len(r.buf) && !r.eof {
		if err := r.fill(); err != nil {
			return err
		}
	}
	if r.w == 0 {
		return io.EOF
	}
	block := r.buf[:r.w]
	nul := bytes.Count(block, []byte{0})
	heavy := nul >= 4 && nul*10 > len(block)
	fe := func(format string, args ...any) error {
		return &FormatError{Offset: 0, Line: 1, Reason: fmt.Sprintf(format, args...)}
	}
	if heavy {
		return fe("looks like a binary file (%d NUL bytes in the first %d bytes)", nul, len(block))
	}
	if !bytes.HasPrefix(block, fromPrefix) {
		first := block[:min(len(block), 40)]
		if i := bytes.IndexByte(first, '\n'); i >= 0 {
			first = first[:i]
		}
		return fe("does not start with a From_ line (it starts with %q)", first)
	}
	if bytes.IndexByte(block, '\n') < 0 && bytes.IndexByte(block, '\r') >= 0 {
		return fe("uses CR-only line ends (old Mac format); convert it with tr '\\r' '\\n' first")
	}
	return nil
}

// messageBox holds a Message and room for its From_ line and captured fields: one
// allocation for all three in the usual case (a From_ line up to 96 bytes, up to 8 fields).
type messageBox struct {
	Message
	from   [96]byte
	fields [8]Field
}

// readFromLine reads the From_ line at the read position into m, appending to m.FromLine.
func (r *Reader) readFromLine(m *Message) error {
	fl := m.FromLine
	total := 0
	var last byte
	for {
		if r.r == r.w {
			if r.eof {
				break
			}
			if err := r.fill(); err != nil {
				return err
			}
			continue
		}
		data := r.buf[r.r:r.w]
		i := bytes.IndexByte(data, '\n')
		seg := data
		if i >= 0 {
			seg = data[:i]
		}
		if room := MaxFromLine + 1 - len(fl); room > 0 {
			fl = append(fl, seg[:min(room, len(seg))]...)
		}
		total += len(seg)
		if len(seg) > 0 {
			last = seg[len(seg)-1]
		}
		if i >= 0 {
			if last == '\r' {
				total--
				if len(fl) > total {
					fl = fl[:total]
				}
			}
			r.consumeLine(i + 1)
			break
		}
		r.consume(len(seg))
	}
	if total > MaxFromLine {
		fl = fl[:MaxFromLine]
		m.FromTruncated = true
	} else if len(fl) > total {
		fl = fl[:total]
	}
	m.FromLine = fl
	return nil
}

func (r *Reader) startMessage(m *Message) {
	r.cur = m
	hdr := r.pos()
	r.ms = msgState{
		hdrOff:    hdr,
		hdrLine:   r.lineNo(),
		scanPos:   hdr,
		endPos:    -1,
		clTarget:  -1,
		inHeader:  true,
		lineStart: true,
		firstLine: true,
		capIdx:    -1,
		bodyStart: -1,
		cl:        -1,
	}
	for i := range r.capCount {
		r.capCount[i] = 0
	}
	r.vals = r.vals[:0]
	r.valOff = r.valOff[:0]
	clear(r.fields)
	r.fields = r.fields[:0]
	r.settled = false
}

// valSpan locates a captured value in Reader.vals; a is -1 when the Field's Value is
// already set.
type valSpan struct{ a, b int }

// settleFields gives the captured fields of the current message their values: one string
// for all of them.
func (r *Reader) settleFields() {
	if r.settled {
		return
	}
	r.settled = true
	m := r.cur
	if len(r.fields) > 0 {
		s := string(r.vals)
		for k, sp := range r.valOff {
			if sp.a >= 0 {
				r.fields[k].Value = s[sp.a:sp.b]
			}
		}
		if m.fieldRoom != nil && len(r.fields) <= len(m.fieldRoom) {
			m.Fields = m.fieldRoom[:len(r.fields):len(r.fields)]
			copy(m.Fields, r.fields)
		} else {
			m.Fields = slices.Clone(r.fields) // one allocation of the exact size
		}
		m.fieldRoom = nil
		clear(r.fields) // drop the references to the values
		r.fields = r.fields[:0]
	}
	r.vals = r.vals[:0]
	r.valOff = r.valOff[:0]
	if cap(r.vals) > 64<<10 {
		r.vals = nil // a huge header: do not keep its buffer
	}
}

// bufIdx converts an input offset into a buffer index.
func (r *Reader) bufIdx(off int64) int { return int(off - r.base) }

// emptyBefore reports whether the '\n' at input offset q ends an empty line.
func (r *Reader) emptyBefore(q int64) bool {
	i := r.bufIdx(q)
	if i < 1 {
		return false
	}
	if r.buf[i-1] == '\n' {
		return true
	}
	return i >= 2 && r.buf[i-1] == '\r' && r.buf[i-2] == '\n'
}

// safe returns the next bytes of the current message's raw content that are
// known to belong to it, at least need bytes unless a line end or the end of
// the message follows them. end reports that the content ends after chunk.
func (r *Reader) safe(need int) (chunk []byte, end bool, err error) {
	ms := &r.ms
	for {
		pos := r.pos()
		switch {
		case ms.endPos >= 0:
			if pos >= ms.endPos {
				return nil, true, nil
			}
			lim := ms.endPos - pos
			avail := int64(r.w - r.r)
			if avail >= lim {
				return r.buf[r.r : r.r+int(lim)], true, nil
			}
			if avail >= int64(need) {
				return r.buf[r.r:r.w], false, nil
			}
			if r.eof {
				// the input changed under us (only possible after ReadAt)
				r.warn(r.lineNo(), pos, "input ended before the end of message %d found earlier", r.seq)
				ms.endPos = r.base + int64(r.w)
				ms.endSep = 0
				continue
			}
		case ms.pend:
			if pos >= ms.pendD {
				r.decide()
				continue
			}
			return r.buf[r.r:r.bufIdx(ms.pendD)], false, nil
		case ms.clTarget >= 0:
			if pos >= ms.clTarget {
				r.decideCL()
				continue
			}
			if r.eof && ms.clTarget > r.base+int64(r.w) {
				r.warn(ms.clLine, pos, "message %d: Content-Length: %d points beyond the end of the file; splitting at From_ lines instead", r.seq, ms.cl)
				ms.clTarget = -1
				ms.scanPos = pos
				continue
			}
			lim := ms.clTarget - pos
			avail := int64(r.w - r.r)
			if avail >= lim {
				return r.buf[r.r : r.r+int(lim)], false, nil
			}
			if !r.eof {
				avail -= 2 // a final "\r\n" may have to be dropped
			}
			if avail >= int64(need) {
				return r.buf[r.r : r.r+int(avail)], false, nil
			}
		default:
			r.scan()
			if ms.pend || ms.endPos >= 0 {
				continue
			}
			if safeEnd := ms.scanPos - 1; safeEnd-pos >= int64(need) {
				return r.buf[r.r:r.bufIdx(safeEnd)], false, nil
			}
		}
		if err := r.fill(); err != nil {
			if err == errNoRoom {
				// cannot happen with the sizes used; avoid spinning
				return nil, false, fmt.Errorf("mbox: internal error: buffer full at byte offset %d", pos)
			}
			return nil, false, err
		}
	}
}

// scan looks for the next separator candidate from scanPos.
func (r *Reader) scan() {
	ms := &r.ms
	for {
		si := r.bufIdx(ms.scanPos)
		i := indexSep(r.buf[si:r.w])
		if i < 0 {
			if r.eof {
				r.endAtEOF()
				return
			}
			if p := r.base + int64(r.w) - int64(len(fromSep)-1); p > ms.scanPos {
				ms.scanPos = p
			}
			return
		}
		q := si + i
		qOff := r.base + int64(q)
		if r.format != Auto && !r.emptyBefore(qOff) {
			ms.scanPos = qOff + 1
			continue
		}
		ls := q + 1
		lim := min(ls+MaxFromLine+2, r.w)
		j := bytes.IndexByte(r.buf[ls+len(fromPrefix):lim], '\n')
		var line []byte
		switch {
		case j >= 0:
			line = r.buf[ls : ls+len(fromPrefix)+j]
			if line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
		case lim-ls >= MaxFromLine+2:
			line = r.buf[ls : ls+MaxFromLine]
		case !r.eof:
			ms.scanPos = qOff // wait for the rest of the line
			return
		default:
			// a "From " line at the end of the input without a line end:
			// Dovecot does not take it as a separator
			if r.format == Auto {
				ms.scanPos = qOff + 1
				continue
			}
			line = r.buf[ls:r.w]
		}
		if len(line) > MaxFromLine {
			line = line[:MaxFromLine]
		}
		if r.format == Auto && r.isSep != nil && !r.isSep(line) {
			ms.scanPos = qOff + 1
			continue
		}
		ms.pend = true
		ms.pendQ = qOff
		ms.pendD = qOff
		ms.pendSep = 1
		if q > 0 && r.buf[q-1] == '\r' && qOff-1 >= ms.hdrOff {
			ms.pendD--
			ms.pendSep = 2
		}
		ms.scanPos = qOff
		return
	}
}

// endAtEOF ends the message at the end of the input, dropping one final
// "\n" (or "\r\n").
func (r *Reader) endAtEOF() {
	ms := &r.ms
	end := r.base + int64(r.w)
	floor := max(ms.hdrOff, r.pos())
	sep := 0
	if end-1 >= floor && r.buf[r.bufIdx(end-1)] == '\n' {
		end--
		sep = 1
		if end-1 >= floor && r.buf[r.bufIdx(end-1)] == '\r' {
			end--
			sep = 2
		}
	}
	ms.endPos = end
	ms.endSep = sep
}

// decide ends the message at the pending candidate unless Content-Length
// says it goes on to a valid separator further on.
func (r *Reader) decide() {
	ms := &r.ms
	ms.pend = false
	D, q := ms.pendD, ms.pendQ
	cl := ms.cl
	if cl < 0 && ms.clOn && ms.clState != 3 {
		// the Content-Length field ends here if the message does
		cl = ms.clVal
		ms.clLine = ms.clField
	}
	if r.useCL && cl >= 0 && !ms.clDone {
		bs := ms.bodyStart
		if bs < 0 {
			// the header did not end before the separator; Dovecot then
			// counts from after the blank line the separator took, or from
			// the separator itself
			if r.emptyBefore(q) {
				bs = q + 1
			} else {
				bs = D
			}
		}
		E := bs + cl
		if E > D {
			v, sep := r.checkEnd(E)
			switch {
			case v == vValid:
				ms.clDone, ms.clUsed = true, true
				ms.endPos, ms.endSep = E, sep
				return
			case v == vUnknown && r.format != Auto:
				ms.clDone = true
				ms.clTarget = E
				return
			case v == vUnknown:
				r.warn(ms.clLine, D, "message %d: Content-Length: %d could not be verified (input is not seekable and the length reaches too far ahead); splitting at the From_ line", r.seq, cl)
				ms.clDone, ms.clWarned = true, true
			}
		} else if E == D {
			ms.clUsed = true
		}
	}
	ms.endPos, ms.endSep = D, ms.pendSep
}

// decideCL runs when the content reached the trusted Content-Length end.
func (r *Reader) decideCL() {
	ms := &r.ms
	E := ms.clTarget
	ms.clTarget = -1
	if v, sep := r.checkEnd(E); v == vValid {
		ms.clUsed = true
		ms.endPos, ms.endSep = E, sep
		return
	}
	r.warn(ms.clLine, E, "message %d: Content-Length: %d is not followed by a From_ line; splitting at From_ lines instead", r.seq, ms.cl)
	ms.scanPos = E
}

// onHeaderEnd runs after the blank line ending the header section.
func (r *Reader) onHeaderEnd() {
	ms := &r.ms
	if ms.cl < 0 || ms.clDone || (r.format != MboxCL && r.format != MboxCL2) {
		return
	}
	ms.clDone = true
	E := ms.bodyStart + ms.cl
	v, sep := r.checkEnd(E)
	switch v {
	case vValid:
		ms.pend = false
		ms.clUsed = true
		ms.endPos, ms.endSep = E, sep
	case vUnknown:
		ms.pend = false
		ms.clTarget = E
	default:
		r.warn(ms.clLine, ms.bodyStart, "message %d: Content-Length: %d does not end at a From_ line or the end of the file; splitting at From_ lines instead", r.seq, ms.cl)
	}
}

// checkEnd reports whether the content may end at input offset E by its
// Content-Length, and how many separator bytes follow E.
func (r *Reader) checkEnd(E int64) (verdict, int) {
	data, atEOF, ok := r.peekAt(E-1, sepLook)
	if !ok {
		return vUnknown, 0
	}
	if len(data) == 0 {
		return vInvalid, 0 // beyond the end of the input
	}
	prev, d := data[0], data[1:]
	if atEOF && (string(d) == "\n" || string(d) == "\r\n") {
		return vValid, len(d)
	}
	if r.format != Auto {
		switch {
		case atEOF && len(d) == 0:
			return vValid, 0
		case prev == '\n' && bytes.HasPrefix(d, fromPrefix):
			return vValid, 0
		case bytes.HasPrefix(d, fromSep):
			return vValid, 1
		case len(d) >= 2 && d[0] == '\r' && bytes.HasPrefix(d[1:], fromSep):
			return vValid, 2
		}
		return vInvalid, 0
	}
	// Dovecot (istream_raw_mbox_is_valid_from): "\nFrom " or "\r\nFrom "
	// followed by at least 26 more bytes and a From_ line that parses.
	var rest []byte
	sep := 0
	switch {
	case bytes.HasPrefix(d, fromSep):
		sep = 1
	case len(d) >= 2 && d[0] == '\r' && bytes.HasPrefix(d[1:], fromSep):
		sep = 2
	default:
		return vInvalid, 0
	}
	if atEOF && len(d) < 31+sep {
		return vInvalid, 0
	}
	rest = d[sep:]
	j := bytes.IndexByte(rest, '\n')
	var line []byte
	switch {
	case j >= 0:
		line = rest[:j]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
	case len(rest) >= MaxFromLine+2:
		line = rest[:MaxFromLine]
	default:
		return vInvalid, 0 // no line end before the end of the input
	}
	if len(line) > MaxFromLine {
		line = line[:MaxFromLine]
	}
	if r.isSep != nil && !r.isSep(line) {
		return vInvalid, 0
	}
	return vValid, sep
}

// peekAt returns up to n input bytes at offset pos without consuming them,
// from the buffer or with ReadAt. atEOF reports that the input ends within
// them; ok is false when they cannot be obtained.
func (r *Reader) peekAt(pos int64, n int) (data []byte, atEOF, ok bool) {
	for {
		i := pos - r.base
		if i < 0 {
			break
		}
		if i+int64(n) <= int64(r.w) {
			return r.buf[i : i+int64(n)], false, true
		}
		if r.eof {
			if i >= int64(r.w) {
				return nil, true, true
			}
			return r.buf[i:r.w], true, true
		}
		start := int64(r.r - min(r.r, keepBehind))
		if i-start+int64(n) > int64(len(r.buf)) {
			break
		}
		if err := r.fill(); err != nil {
			if err == errNoRoom {
				break
			}
			return nil, false, false
		}
	}
	if r.ra == nil {
		return nil, false, false
	}
	if cap(r.look) < n {
		r.look = make([]byte, n)
	}
	k, err := r.ra.ReadAt(r.look[:n], r.raBase+pos)
	if err != nil && err != io.EOF {
		return nil, false, false
	}
	return r.look[:k], k < n, true
}
