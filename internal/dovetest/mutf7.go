package dovetest

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf16"
)

// mutf7Enc is the modified BASE64 alphabet of RFC 3501 section 5.1.3 ("," instead of "/").
var mutf7Enc = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// DecodeMUTF7 decodes an IMAP modified UTF-7 mailbox name (RFC 3501 5.1.3) to UTF-8.
// Bytes outside the shifted sections are passed through unchanged, so a name that a
// server sent as raw 8-bit survives. It fails on a malformed shifted section.
func DecodeMUTF7(s string) (string, error) {
	if !strings.Contains(s, "&") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '&' {
			b.WriteByte(c)
			i++
			continue
		}
		j := strings.IndexByte(s[i+1:], '-')
		if j < 0 {
			return s, fmt.Errorf("decode mailbox name %q: unterminated '&' at byte %d", s, i)
		}
		j += i + 1
		if j == i+1 {
			b.WriteByte('&')
			i = j + 1
			continue
		}
		raw, err := mutf7Enc.DecodeString(s[i+1 : j])
		if err != nil || len(raw)%2 != 0 {
			return s, fmt.Errorf("decode mailbox name %q: bad modified base64 at byte %d", s, i)
		}
		u := make([]uint16, len(raw)/2)
		for k := range u {
			u[k] = uint16(raw[2*k])<<8 | uint16(raw[2*k+1])
		}
		for k := 0; k < len(u); k++ {
			r := rune(u[k])
			if utf16.IsSurrogate(r) {
				if k+1 >= len(u) {
					return s, fmt.Errorf("decode mailbox name %q: bad UTF-16 at byte %d", s, i)
				}
				r = utf16.DecodeRune(r, rune(u[k+1]))
				if r == 0xFFFD {
					return s, fmt.Errorf("decode mailbox name %q: bad UTF-16 at byte %d", s, i)
				}
				k++
			}
			b.WriteRune(r)
		}
		i = j + 1
	}
	return b.String(), nil
}

// EncodeMUTF7 encodes a UTF-8 mailbox name as IMAP modified UTF-7.
func EncodeMUTF7(s string) string {
	var b strings.Builder
	var pend []rune
	flush := func() {
		if len(pend) == 0 {
			return
		}
		u := utf16.Encode(pend)
		raw := make([]byte, 2*len(u))
		for k, v := range u {
			raw[2*k], raw[2*k+1] = byte(v>>8), byte(v)
		}
		b.WriteByte('&')
		b.WriteString(mutf7Enc.EncodeToString(raw))
		b.WriteByte('-')
		pend = pend[:0]
	}
	for _, r := range s {
		switch {
		case r == '&':
			flush()
			b.WriteString("&-")
		case r >= 0x20 && r <= 0x7e:
			flush()
			b.WriteRune(r)
		default:
			pend = append(pend, r)
		}
	}
	flush()
	return b.String()
}
