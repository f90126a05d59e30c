package mbox

import (
	"bytes"
	"io"
)

// crlfCopy copies src into dst turning "\r\n" into "\n". A '\r' that ends src
// is consumed but not written; pendCR reports it (the caller decides once the
// next byte is known).
func crlfCopy(dst, src []byte) (consumed, produced int, pendCR bool) {
	for consumed < len(src) && produced < len(dst) {
		seg := src[consumed:]
		i := bytes.IndexByte(seg, '\r')
		if i < 0 {
			c := copy(dst[produced:], seg)
			return consumed + c, produced + c, false
		}
		c := copy(dst[produced:], seg[:i])
		consumed += c
		produced += c
		if c < i {
			return consumed, produced, false
		}
		switch {
		case i+1 == len(seg):
			return consumed + 1, produced, true
		case seg[i+1] == '\n':
			consumed++ // drop the CR; the LF is copied next
		default:
			if produced == len(dst) {
				return consumed, produced, false
			}
			dst[produced] = '\r'
			produced++
			consumed++
		}
	}
	return consumed, produced, false
}

// produce fills p with converted content of the current message.
func (r *Reader) produce(p []byte) (int, error) {
	ms := &r.ms
	m := r.cur
	n := 0
	for n < len(p) {
		need := 1
		if ms.inHeader && ms.lineStart {
			need = nameLook
		} else if ms.gtRun {
			need = 6
		}
		chunk, _, err := r.safe(need)
		if err != nil {
			m.Size += int64(n)
			return n, err
		}
		if len(chunk) == 0 {
			// end of the content
			if ms.pendingCR {
				p[n] = '\r'
				n++
				ms.pendingCR = false
				continue
			}
			if ms.gtPending {
				p[n] = '>'
				n++
				ms.gtPending = false
				continue
			}
			r.finish()
			m.Size += int64(n)
			if n > 0 {
				return n, nil
			}
			return 0, io.EOF
		}
		if ms.pendingCR {
			ms.pendingCR = false
			if chunk[0] != '\n' {
				p[n] = '\r'
				n++
				continue
			}
		}
		if ms.gtRun {
			k := 0
			for k < len(chunk) && chunk[k] == '>' {
				k++
			}
			if k > 0 {
				c := copy(p[n:], chunk[:k])
				r.consume(c)
				n += c
				continue
			}
			ms.gtRun = false
			if bytes.HasPrefix(chunk, fromPrefix) {
				ms.gtPending = false
			} else if ms.gtPending {
				p[n] = '>'
				n++
				ms.gtPending = false
			}
			continue
		}
		if ms.inHeader {
			if ms.lineStart {
				if k := r.headerLineFast(chunk, p, &n); k > 0 {
					// the next lines of the chunk, as long as the fast path takes them: the
					// chunk stays valid (it ends where safe said), nothing else is pending
					for chunk = chunk[k:]; len(chunk) > 0; chunk = chunk[k:] {
						if k = r.headerLineFast(chunk, p, &n); k == 0 {
							break
						}
					}
					continue
				}
				if r.headerLineStart(chunk, p, &n) {
					continue
				}
			}
			n += r.headerLine(chunk, p[n:])
			continue
		}
		// body
		if r.format == MboxRD {
			if ms.lineStart {
				ms.lineStart = false
				if chunk[0] == '>' {
					r.consume(1)
					ms.gtRun, ms.gtPending = true, true
					continue
				}
			}
			seg := chunk
			if i := bytes.Index(chunk, nlGT); i >= 0 {
				seg = chunk[:i+1]
			}
			c, pr, pend := crlfCopy(p[n:], seg)
			r.consume(c)
			n += pr
			ms.pendingCR = pend
			if c > 0 && seg[c-1] == '\n' {
				ms.lineStart = true
			}
			continue
		}
		c, pr, pend := crlfCopy(p[n:], chunk)
		r.consume(c)
		n += pr
		ms.pendingCR = pend
	}
	m.Size += int64(n)
	return n, nil
}

// headerLineFast handles a whole header line at once in the common case: the line is
// complete in chunk, fits in p, is not the blank line and (MboxRD) does not start with '>'.
// It does what headerLineStart and headerLine do for such a line and returns the bytes it
// consumed (the line and its end). It returns 0, having done nothing, otherwise.
//
// CRs inside the line need no care: crlfCopy keeps a CR not followed by LF, so the output is
// the line without its line end plus "\n"; feed would pass the same bytes to obsPut in
// pieces, and obsPut gives the same result for them in one piece (a CR is not white space).
func (r *Reader) headerLineFast(chunk, p []byte, n *int) int {
	ms := &r.ms
	e := bytes.IndexByte(chunk[:min(len(chunk), nameLook)], '\n')
	if e <= 0 || e >= len(p)-*n {
		return 0
	}
	line := chunk[:e]
	if line[e-1] == '\r' {
		line = line[:e-1]
		if len(line) == 0 {
			return 0 // the blank line
		}
	}
	c0 := line[0]
	if !ms.firstLine && (c0 == ' ' || c0 == '\t') {
		// continuation line: same field (see headerLineStart)
		if ms.clOn && ms.clState < 2 {
			ms.clState = 2
		}
	} else {
		if r.format == MboxRD && c0 == '>' {
			return 0
		}
		r.endField()
		ms.firstLine = false
		var name []byte
		if colon := bytes.IndexByte(line, ':'); colon >= 0 {
			name = line[:colon]
			for len(name) > 0 && (name[len(name)-1] == ' ' || name[len(name)-1] == '\t') {
				name = name[:len(name)-1]
			}
			ms.obsSkip = colon + 1
			r.matchName(name, true)
		} else {
			// Dovecot: a line without a colon is all name
			ms.obsSkip = len(line)
			r.matchName(line, false)
		}
	}
	if !ms.strip {
		copy(p[*n:], line)
		p[*n+len(line)] = '\n'
		*n += len(line) + 1
	} else {
		ms.strippedLF++
	}
	if ms.capIdx >= 0 || ms.clOn {
		r.obsPut(line[ms.obsSkip:])
	}
	ms.obsSkip = 0
	ms.lineStart = true
	r.consumeLine(e + 1)
	return e + 1
}

// matchName starts stripping, capturing and Content-Length parsing as the field name asks.
func (r *Reader) matchName(name []byte, colon bool) {
	e := r.lookupName(name)
	if e == nil {
		return
	}
	ms := &r.ms
	if e.strip {
		ms.strip = true
	}
	if colon && e.capt >= 0 {
		ms.capIdx = e.capt
		ms.capTotal = 0
		ms.capLine = r.lineNo()
		ms.capOff = r.pos()
		ms.capStart = len(r.vals)
	}
	if e.cl && ms.cl < 0 {
		ms.clOn = true
		ms.clState = 0
		ms.clVal = 0
		ms.clField = r.lineNo()
	}
}

// headerLineStart handles the start of a header line. It returns true when
// the caller must fetch a new chunk (something was consumed or state changed
// such that chunk is stale).
func (r *Reader) headerLineStart(chunk, p []byte, n *int) bool {
	ms := &r.ms
	c0 := chunk[0]
	if c0 == '\n' || (c0 == '\r' && len(chunk) >= 2 && chunk[1] == '\n') {
		// the blank line ending the header section
		r.endField()
		k := 1
		if c0 == '\r' {
			k = 2
		}
		r.consume(k)
		p[*n] = '\n'
		*n++
		ms.inHeader = false
		ms.lineStart = true
		ms.bodyStart = r.pos()
		r.onHeaderEnd()
		return true
	}
	ms.lineStart = false
	if !ms.firstLine && (c0 == ' ' || c0 == '\t') {
		// continuation line: same field. Dovecot joins the lines with "\n",
		// which ends the digits of a Content-Length value.
		if ms.clOn && ms.clState < 2 {
			ms.clState = 2
		}
		return false
	}
	r.endField()
	ms.firstLine = false
	if r.format == MboxRD && c0 == '>' {
		r.consume(1)
		ms.gtRun, ms.gtPending = true, true
		return true
	}
	view := chunk
	complete := len(chunk) < nameLook
	if len(view) > nameLook {
		view = view[:nameLook]
	}
	if e := bytes.IndexByte(view, '\n'); e >= 0 {
		view = view[:e]
		if len(view) > 0 && view[len(view)-1] == '\r' {
			view = view[:len(view)-1]
		}
		complete = true
	}
	var name []byte
	colon := bytes.IndexByte(view, ':')
	switch {
	case colon >= 0:
		name = view[:colon]
		for len(name) > 0 && (name[len(name)-1] == ' ' || name[len(name)-1] == '\t') {
			name = name[:len(name)-1]
		}
		ms.obsSkip = colon + 1
	case complete:
		// Dovecot: a line without a colon is all name
		name = view
		ms.obsSkip = len(view)
	default:
		ms.obsSkip = 0
	}
	if name != nil {
		r.matchName(name, colon >= 0)
	}
	return false
}

// headerLine processes the rest of a header line (up to its '\n') and
// returns the bytes written to p.
func (r *Reader) headerLine(chunk, p []byte) int {
	ms := &r.ms
	seg := chunk
	if e := bytes.IndexByte(chunk, '\n'); e >= 0 {
		seg = chunk[:e+1]
	}
	var consumed, produced int
	if ms.strip {
		consumed = len(seg)
		if seg[consumed-1] == '\n' {
			ms.strippedLF++
		}
	} else {
		var pend bool
		consumed, produced, pend = crlfCopy(p, seg)
		ms.pendingCR = pend
	}
	if ms.capIdx >= 0 || ms.clOn {
		f := seg[:consumed]
		if ms.obsSkip > 0 {
			s := min(ms.obsSkip, len(f))
			f = f[s:]
			ms.obsSkip -= s
		}
		r.feed(f)
	} else if ms.obsSkip > 0 {
		ms.obsSkip -= min(ms.obsSkip, consumed)
	}
	r.consume(consumed)
	if consumed > 0 && seg[consumed-1] == '\n' {
		ms.lineStart = true
		ms.obsSkip = 0
	}
	return produced
}

// feed passes raw field bytes to the value observers (capture and
// Content-Length), dropping line ends and the CR of CRLF.
func (r *Reader) feed(src []byte) {
	ms := &r.ms
	for len(src) > 0 {
		if ms.obsCR {
			ms.obsCR = false
			if src[0] != '\n' {
				r.obsPut([]byte{'\r'})
			}
		}
		j := -1
		for k, c := range src {
			if c == '\r' || c == '\n' {
				j = k
				break
			}
		}
		if j < 0 {
			r.obsPut(src)
			return
		}
		r.obsPut(src[:j])
		if src[j] == '\r' {
			ms.obsCR = true
		}
		src = src[j+1:]
	}
}

func (r *Reader) obsPut(b []byte) {
	ms := &r.ms
	if len(b) == 0 {
		return
	}
	if ms.capIdx >= 0 {
		v := b
		if ms.capTotal == 0 {
			for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
				v = v[1:]
			}
		}
		if room := MaxFieldLen - (len(r.vals) - ms.capStart); room > 0 {
			r.vals = append(r.vals, v[:min(room, len(v))]...)
		}
		ms.capTotal += int64(len(v))
	}
	if ms.clOn {
		for _, c := range b {
			switch ms.clState {
			case 0:
				ms.clState = 1
				if c == ' ' || c == '\t' {
					continue // Dovecot skips one blank after the colon
				}
				fallthrough
			case 1:
				if c >= '0' && c <= '9' {
					if ms.clVal < 1<<50 {
						ms.clVal = ms.clVal*10 + int64(c-'0')
					}
					continue
				}
				ms.clState = 2
				fallthrough
			case 2:
				if c != ' ' && c != '\t' {
					ms.clState = 3
				}
			}
			if ms.clState == 3 {
				break
			}
		}
	}
}

// endField completes the header field being processed.
func (r *Reader) endField() {
	ms := &r.ms
	if ms.obsCR {
		ms.obsCR = false
		r.obsPut([]byte{'\r'})
	}
	if ms.clOn {
		ms.clOn = false
		if ms.clState != 3 && ms.cl < 0 {
			ms.cl = ms.clVal
			ms.clLine = ms.clField
		}
	}
	if ms.capIdx >= 0 {
		i := ms.capIdx
		f := Field{Name: r.capt[i], Line: ms.capLine, Truncated: ms.capTotal > MaxFieldLen}
		sp := valSpan{ms.capStart, len(r.vals)}
		if f.Truncated {
			r.warn(f.Line, ms.capOff, "message %d: header %s is %d bytes long; only the first %d bytes were kept", r.seq, f.Name, ms.capTotal, MaxFieldLen)
		}
		switch {
		case r.capCount[i] < maxFieldsPerName:
			r.capCount[i]++
			r.fields = append(r.fields, f)
			r.valOff = append(r.valOff, sp)
		case r.captRecv[i]:
			// keep the last ones: this value gets a string of its own, so that the
			// values dropped do not pile up in vals
			f.Value = string(r.vals[sp.a:sp.b])
			r.vals = r.vals[:sp.a]
			for k := range r.fields {
				if r.fields[k].Name == f.Name {
					r.fields = append(r.fields[:k], r.fields[k+1:]...)
					r.valOff = append(r.valOff[:k], r.valOff[k+1:]...)
					break
				}
			}
			r.fields = append(r.fields, f)
			r.valOff = append(r.valOff, valSpan{-1, -1})
		default:
			r.vals = r.vals[:sp.a]
		}
		ms.capIdx = -1
	}
	ms.strip = false
}

// finish completes the current message once its content was delivered.
func (r *Reader) finish() {
	ms := &r.ms
	m := r.cur
	r.endField()
	r.settleFields()
	// every line end between the header's start and here is in the content (CRLF became LF,
	// '>' quoting changes no line end) except those of stripped fields
	m.LF = r.lineNo() - ms.hdrLine - ms.strippedLF
	ms.ended = true
	m.HeaderEnded = ms.bodyStart >= 0
	if r.useCL && ms.cl >= 0 && !ms.clUsed {
		bs := ms.bodyStart
		if bs < 0 {
			bs = ms.endPos
		}
		if bs+ms.cl == ms.endPos {
			ms.clUsed = true
		} else if r.format == Auto && !ms.clWarned {
			r.warn(ms.clLine, m.Offset, "message %d: Content-Length: %d ignored: it does not point at the next From_ line", r.seq, ms.cl)
		}
	}
	m.ContentLengthUsed = ms.clUsed
}
