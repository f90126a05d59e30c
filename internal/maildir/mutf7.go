package maildir

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// mbase64 is the modified BASE64 alphabet of RFC 3501 section 5.1.3 ("," instead of "/").
const mbase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

// mbase64Val maps a byte to its value in mbase64, or 0xff.
var mbase64Val = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(mbase64); i++ {
		t[mbase64[i]] = byte(i)
	}
	return t
}()

// EncodeMUTF7 encodes a UTF-8 mailbox name component as IMAP modified UTF-7 (RFC 3501 5.1.3):
// printable US-ASCII except '&' stays as is, '&' becomes "&-", everything else (non-ASCII and
// control characters) becomes "&" + modified base64 of its UTF-16 + "-".
//
// Invalid UTF-8: each byte that is not part of a valid UTF-8 sequence is taken as the
// ISO-8859-1 (Latin-1) character of the same value (0xFC → U+00FC "ü"), since legacy
// mbox file names that are not UTF-8 are almost always Latin-1. Nothing is dropped and the
// result is always valid modified UTF-7 that Dovecot can open; the price is that such a byte
// and its UTF-8 spelling give the same name ("Entw\xfcrfe" and "Entwürfe" both become
// "Entw&APw-rfe"), so DecodeMUTF7 returns the UTF-8 spelling. Callers detect such folder
// collisions by comparing the resulting directory names.
func EncodeMUTF7(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '&' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	var pending []uint16
	flush := func() {
		if len(pending) == 0 {
			return
		}
		b.WriteByte('&')
		var acc uint32
		bits := 0
		for _, u := range pending {
			acc = acc<<16 | uint32(u)
			bits += 16
			for bits >= 6 {
				bits -= 6
				b.WriteByte(mbase64[(acc>>bits)&0x3f])
			}
			acc &= 1<<bits - 1
		}
		if bits > 0 {
			b.WriteByte(mbase64[(acc<<(6-bits))&0x3f])
		}
		b.WriteByte('-')
		pending = pending[:0]
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			r = rune(s[i]) // invalid UTF-8: the byte as Latin-1
		}
		i += size
		if r >= 0x20 && r <= 0x7e {
			flush()
			if r == '&' {
				b.WriteString("&-")
			} else {
				b.WriteByte(byte(r))
			}
			continue
		}
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			pending = append(pending, uint16(r1), uint16(r2))
		} else {
			pending = append(pending, uint16(r))
		}
	}
	flush()
	return b.String()
}

// DecodeMUTF7 decodes an IMAP modified UTF-7 mailbox name (RFC 3501 5.1.3) to UTF-8. It is
// strict, like Dovecot: only printable US-ASCII may appear, every "&" section must end with
// "-", decode to whole UTF-16 units with zero padding bits, pair surrogates correctly and
// not encode printable US-ASCII.
func DecodeMUTF7(s string) (string, error) {
	out, _, err := decodeMUTF7(s)
	return out, err
}

// IsMUTF7 reports whether s is valid modified UTF-7 containing at least one non-empty
// "&...-" section, i.e. a name that was already encoded and must not be encoded again.
// A name whose only "&" are "&-" is not counted: encoding it again is harmless and keeps
// names such as "Tom &- Jerry" intact.
func IsMUTF7(s string) bool {
	_, shifted, err := decodeMUTF7(s)
	return err == nil && shifted
}

func decodeMUTF7(s string) (string, bool, error) {
	if !strings.ContainsAny(s, "&") {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c > 0x7e {
				return "", false, fmt.Errorf("decode mailbox name %q: byte 0x%02x at offset %d is not printable US-ASCII, so the name is not modified UTF-7", s, c, i)
			}
		}
		return s, false, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	shifted := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return "", false, fmt.Errorf("decode mailbox name %q: byte 0x%02x at offset %d is not printable US-ASCII, so the name is not modified UTF-7", s, c, i)
		}
		if c != '&' {
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(s[i+1:], '-')
		if end < 0 {
			return "", false, fmt.Errorf("decode mailbox name %q: '&' at offset %d has no closing '-'", s, i)
		}
		end += i + 1
		if end == i+1 {
			b.WriteByte('&')
			i = end + 1
			continue
		}
		shifted = true
		var acc uint32
		bits := 0
		var high rune // pending high surrogate
		for j := i + 1; j < end; j++ {
			v := mbase64Val[s[j]]
			if v == 0xff {
				return "", false, fmt.Errorf("decode mailbox name %q: byte %q at offset %d is not modified base64", s, s[j], j)
			}
			acc = acc<<6 | uint32(v)
			bits += 6
			if bits < 16 {
				continue
			}
			bits -= 16
			u := rune(acc >> bits & 0xffff)
			acc &= 1<<bits - 1
			switch {
			case high != 0:
				if u < 0xdc00 || u > 0xdfff {
					return "", false, fmt.Errorf("decode mailbox name %q: unpaired UTF-16 surrogate in the section at offset %d", s, i)
				}
				b.WriteRune(utf16.DecodeRune(high, u))
				high = 0
			case u >= 0xd800 && u <= 0xdbff:
				high = u
			case u >= 0xdc00 && u <= 0xdfff:
				return "", false, fmt.Errorf("decode mailbox name %q: unpaired UTF-16 surrogate in the section at offset %d", s, i)
			case u >= 0x20 && u <= 0x7e:
				return "", false, fmt.Errorf("decode mailbox name %q: the section at offset %d encodes printable US-ASCII, which modified UTF-7 forbids", s, i)
			default:
				b.WriteRune(u)
			}
		}
		if high != 0 {
			return "", false, fmt.Errorf("decode mailbox name %q: unpaired UTF-16 surrogate in the section at offset %d", s, i)
		}
		if bits >= 6 || acc != 0 {
			return "", false, fmt.Errorf("decode mailbox name %q: the section at offset %d does not end on a whole UTF-16 character", s, i)
		}
		i = end + 1
	}
	return b.String(), shifted, nil
}
