// Package mailflag turns the flag headers of an mbox message (Status, X-Status, X-Mozilla-Status,
// X-Evolution, X-Keywords) into Maildir flags, keywords and the new/ or cur/ decision.
//
// It knows nothing about files: callers hand it header values, it returns a Flags value.
package mailflag

import (
	"slices"
	"strconv"
	"strings"
)

// Flags is what a message's headers say about its IMAP state.
type Flags struct {
	Seen, Answered, Flagged, Draft, Deleted bool
	// Old is true when Status contains 'O' (the message is no longer \Recent).
	Old bool
	// Keywords are the X-Keywords values in order of appearance, without duplicates.
	Keywords []string
	// FromClientHeaders is true when X-Mozilla-Status or X-Evolution added a flag that
	// Status/X-Status did not give (Dovecot ignores those two headers).
	FromClientHeaders bool
}

// Header is one header field as the reader captured it: the name in any case and the
// unfolded value with leading whitespace removed.
type Header struct {
	Name  string
	Value string
}

// Parse reads the flag headers Dovecot reads (Status, X-Status, X-Keywords) the way Dovecot
// reads them, and X-Mozilla-Status / X-Evolution the way mb2md reads them.
func Parse(headers []Header) Flags {
	var f Flags
	var client Flags
	var seenKW map[string]bool // once a message has many keywords
	for _, h := range headers {
		switch canonical(h.Name) {
		case "status":
			for _, c := range h.Value {
				switch c {
				case 'R':
					f.Seen = true
				case 'O':
					f.Old = true
				}
			}
		case "x-status":
			for _, c := range h.Value {
				switch c {
				case 'A':
					f.Answered = true
				case 'F':
					f.Flagged = true
				case 'T':
					f.Draft = true
				case 'D':
					f.Deleted = true
				}
			}
		case "x-keywords":
			v := h.Value
			for v != "" {
				i := strings.IndexFunc(v, isKeywordSep)
				if i < 0 {
					i = len(v)
				}
				if kw := v[:i]; kw != "" {
					// a linear search for the few keywords of a message; a map for a
					// message with many (at most 64 fields of 8 KiB are captured)
					switch {
					case seenKW != nil:
						if !seenKW[kw] {
							seenKW[kw] = true
							f.Keywords = append(f.Keywords, kw)
						}
					case !slices.Contains(f.Keywords, kw):
						f.Keywords = append(f.Keywords, kw)
						if len(f.Keywords) == 32 {
							seenKW = make(map[string]bool, 64)
							for _, k := range f.Keywords {
								seenKW[k] = true
							}
						}
					}
				}
				v = v[min(i+1, len(v)):]
			}
		case "x-mozilla-status":
			v, ok := hex4(h.Value)
			if !ok {
				continue
			}
			client.Seen = client.Seen || v&0x1 != 0
			client.Answered = client.Answered || v&0x2 != 0
			client.Deleted = client.Deleted || v&0x8 != 0
		case "x-evolution":
			v, ok := evolution(h.Value)
			if !ok {
				continue
			}
			client.Answered = client.Answered || v&0x1 != 0
			client.Deleted = client.Deleted || v&0x2 != 0
			client.Draft = client.Draft || v&0x4 != 0
			client.Flagged = client.Flagged || v&0x8 != 0
			client.Seen = client.Seen || v&0x10 != 0
		}
	}
	add := func(dst *bool, v bool) {
		if v && !*dst {
			*dst = true
			f.FromClientHeaders = true
		}
	}
	add(&f.Seen, client.Seen)
	add(&f.Answered, client.Answered)
	add(&f.Flagged, client.Flagged)
	add(&f.Draft, client.Draft)
	add(&f.Deleted, client.Deleted)
	return f
}

func isKeywordSep(r rune) bool { return r == ' ' || r == '\t' || r == ',' }

// canonical returns the lower-case form of the header names Parse knows, without
// allocating ("" for others).
func canonical(name string) string {
	var n string
	switch len(name) { // one candidate per length
	case len("status"):
		n = "status"
	case len("x-status"):
		n = "x-status"
	case len("x-keywords"):
		n = "x-keywords"
	case len("x-mozilla-status"):
		n = "x-mozilla-status"
	case len("x-evolution"):
		n = "x-evolution"
	default:
		return ""
	}
	if strings.EqualFold(name, n) {
		return n
	}
	return ""
}

// hex4 reads the leading four hex digits of an X-Mozilla-Status value, as mb2md's
// /^X-Mozilla-Status: ([0-9a-f]{4})/i does.
func hex4(s string) (uint64, bool) {
	if len(s) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(s[:4], 16, 16)
	return v, err == nil
}

// evolution reads the 16-bit flag field of an X-Evolution value ("xxxxxxxx-ffff"), as mb2md's
// /^X-Evolution:\s+\w{8}-(\w{4})/i does.
func evolution(s string) (uint64, bool) {
	if len(s) < 13 || s[8] != '-' {
		return 0, false
	}
	for i := 0; i < 8; i++ {
		if !isWord(s[i]) {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s[9:13], 16, 16)
	return v, err == nil
}

func isWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// infoStrings holds the 32 flag-letter strings, indexed by infoBits, so that Info never
// allocates.
var infoStrings = func() (t [32]string) {
	for i := range t {
		var b []byte
		for bit, l := range "DFRST" {
			if i&(1<<bit) != 0 {
				b = append(b, byte(l))
			}
		}
		t[i] = string(b)
	}
	return t
}()

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// infoBits is the index into infoStrings: D F R S T as bits 0..4.
func (f Flags) infoBits() int {
	return btoi(f.Draft) | btoi(f.Flagged)<<1 | btoi(f.Answered)<<2 | btoi(f.Seen)<<3 | btoi(f.Deleted)<<4
}

// Info returns the Maildir flag letters, ASCII-sorted (D F R S T).
func (f Flags) Info() string { return infoStrings[f.infoBits()] }

// InfoWithKeywords appends keyword letters (a..z) to the flag letters, sorted, as Dovecot
// names Maildir files. letters maps keyword → letter.
func (f Flags) InfoWithKeywords(letters map[string]byte) string {
	info := f.Info()
	if len(f.Keywords) == 0 || len(letters) == 0 {
		return info
	}
	var a [64]byte
	b := append(a[:0], info...)
	for _, kw := range f.Keywords {
		if l, ok := letters[kw]; ok && len(b) < len(a) {
			// insertion sort: at most 5 flags and 26 letters
			i := len(b)
			b = append(b, l)
			for ; i > 0 && b[i-1] > l; i-- {
				b[i] = b[i-1]
			}
			b[i] = l
		}
	}
	return string(b)
}

// Subdir says where Dovecot would keep the message: "new" for a message that is still
// \Recent (no 'O' in Status) and has no flags or keywords, else "cur".
func (f Flags) Subdir() string {
	if !f.Old && f.infoBits() == 0 && len(f.Keywords) == 0 {
		return "new"
	}
	return "cur"
}

// Compat returns the flag letters mb2md 3.20 produces for the same header lines: F if the
// pooled letters contain F, R if A, S if R, T if D (Draft ignored). lines are the raw header
// lines (without line end) of the message's header section.
func Compat(lines []string) string {
	pool := map[byte]bool{}
	addCaps := func(s string) {
		for i := 0; i < len(s) && s[i] >= 'A' && s[i] <= 'Z'; i++ {
			pool[s[i]] = true
		}
	}
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "Status: "):
			addCaps(l[len("Status: "):])
		case strings.HasPrefix(l, "X-Status: "):
			addCaps(l[len("X-Status: "):])
		case len(l) >= 18 && strings.EqualFold(l[:18], "X-Mozilla-Status: "):
			s := l[18:]
			if len(s) >= 4 && isHex(s[:4]) {
				v, _ := strconv.ParseUint(s[:4], 16, 16)
				if v&0x1 != 0 {
					pool['R'] = true
				}
				if v&0x2 != 0 {
					pool['A'] = true
				}
				if v&0x8 != 0 {
					pool['D'] = true
				}
			}
		case len(l) >= 12 && strings.EqualFold(l[:12], "X-Evolution:"):
			s := strings.TrimLeft(l[12:], " \t\r\n\f\v")
			if len(s) == len(l[12:]) {
				continue // \s+ needs at least one
			}
			if v, ok := evolution(s); ok {
				if v&0x1 != 0 {
					pool['A'] = true
				}
				if v&0x2 != 0 {
					pool['D'] = true
				}
				if v&0x8 != 0 {
					pool['F'] = true
				}
				if v&0x10 != 0 {
					pool['R'] = true
				}
			}
		}
	}
	var b []byte
	for _, p := range [][2]byte{{'F', 'F'}, {'A', 'R'}, {'R', 'S'}, {'D', 'T'}} {
		if pool[p[0]] {
			b = append(b, p[1])
		}
	}
	return string(b)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
