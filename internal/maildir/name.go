package maildir

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"strconv"
	"strings"
	"time"
)

// Key identifies a message content for idempotent re-runs: a 16-byte fingerprint of the
// content (see Fingerprint), and the occurrence number N (0 for the first message with that
// fingerprint in the mailbox, 1 for the next, ...). A fingerprint is fast, not unique: callers
// compare the content of an existing file before they treat a message as already delivered.
type Key struct {
	Hash [16]byte
	N    uint32
}

// nameTag is the "host" part of our file names; it makes the key part recognisable.
const nameTag = ".mb2md"

// Name gives the base file name of a message (without ":2,"):
//
//	<unix mtime>.M<N>H<hex hash>.mb2md,S=<size>,W=<vsize>
//
// The key part ("M<N>H<hex>") is what Open recognises in existing names, wherever the file is
// (new/ or cur/) and whatever its flags. size is the file size, vsize the size with every LF
// not preceded by CR counted as CRLF (Dovecot trusts W= blindly, so it must be exact).
func Name(key Key, mtime time.Time, size, vsize int64) string {
	var a [maxFinalName]byte
	return string(appendFinalName(a[:0], key, mtime, size, vsize, false, ""))
}

// maxFinalName bounds the length of a name made by appendFinalName: a 20-digit mtime, a
// 10-digit N, the 32-digit hash, 19-digit sizes and ":2," with the 6 flags and 26 keyword
// letters come to 150 bytes.
const maxFinalName = 160

// appendFinalName appends Name's result to b, with ":2,<flags>" appended when info is set.
func appendFinalName(b []byte, key Key, mtime time.Time, size, vsize int64, info bool, flags string) []byte {
	b = appendName(b, key, mtime.Unix(), size, vsize)
	if info {
		b = append(b, ":2,"...)
		b = append(b, flags...)
	}
	return b
}

// appendName appends Name's result to b.
func appendName(b []byte, key Key, mtime int64, size, vsize int64) []byte {
	b = strconv.AppendInt(b, mtime, 10)
	b = append(b, ".M"...)
	b = strconv.AppendUint(b, uint64(key.N), 10)
	b = append(b, 'H')
	b = hex.AppendEncode(b, key.Hash[:])
	b = append(b, nameTag...)
	b = append(b, ",S="...)
	b = strconv.AppendInt(b, size, 10)
	b = append(b, ",W="...)
	return strconv.AppendInt(b, vsize, 10)
}

// parseKey extracts the key from a file name made by Name (with or without info, flags or
// other ",X=" fields). ok is false for names of any other form.
func parseKey(name string) (k Key, ok bool) {
	s := strings.TrimPrefix(name, "-")
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || !strings.HasPrefix(s[i:], ".M") {
		return k, false
	}
	s = s[i+2:]
	i = 0
	var n uint64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + uint64(s[i]-'0')
		if n > 1<<32-1 {
			return k, false
		}
		i++
	}
	if i == 0 || i >= len(s) || s[i] != 'H' {
		return k, false
	}
	s = s[i+1:]
	if len(s) < 32+len(nameTag) || s[32:32+len(nameTag)] != nameTag {
		return k, false
	}
	if _, err := hex.Decode(k.Hash[:], []byte(s[:32])); err != nil {
		return k, false
	}
	if rest := s[32+len(nameTag):]; rest != "" && rest[0] != ',' && rest[0] != ':' {
		return k, false
	}
	k.N = uint32(n)
	return k, true
}

// Fingerprint computes Key.Hash for a content: CRC-32C and CRC-32 (IEEE) of the bytes and the
// length. Both CRCs run at memory speed with hardware support; collisions are resolved by
// comparing contents (see Key).
type Fingerprint struct {
	c, ieee uint32
	n       uint64
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Write adds bytes; it never fails.
func (f *Fingerprint) Write(p []byte) (int, error) {
	f.c = crc32.Update(f.c, castagnoli, p)
	f.ieee = crc32.Update(f.ieee, crc32.IEEETable, p)
	f.n += uint64(len(p))
	return len(p), nil
}

// Sum returns the 16-byte fingerprint.
func (f *Fingerprint) Sum() (h [16]byte) {
	binary.BigEndian.PutUint32(h[0:], f.c)
	binary.BigEndian.PutUint32(h[4:], f.ieee)
	binary.BigEndian.PutUint64(h[8:], f.n)
	return h
}

// Sizer counts a message's size and its size with CRLF line ends (Dovecot's S= and W=) as
// the content streams by: W= is the size plus one for every LF not preceded by CR, also
// across writes. Dovecot trusts W= blindly, so every writer counts it here.
type Sizer struct {
	size, vsize int64
	lastCR      bool
}

// Add counts p.
func (s *Sizer) Add(p []byte) {
	s.AddCounted(p, int64(bytes.Count(p, []byte{'\n'})))
}

// AddCounted counts p, whose line feeds the caller has counted already: lf must be the
// number of '\n' bytes in p (Dovecot trusts W= blindly: a wrong lf makes a wrong W=).
func (s *Sizer) AddCounted(p []byte, lf int64) {
	if len(p) == 0 {
		return
	}
	if lf > 0 {
		bare := lf - int64(bytes.Count(p, []byte{'\r', '\n'}))
		if s.lastCR && p[0] == '\n' {
			bare--
		}
		s.vsize += bare
	}
	s.lastCR = p[len(p)-1] == '\r'
	s.size += int64(len(p))
	s.vsize += int64(len(p))
}

// Size is the number of bytes counted (S=).
func (s *Sizer) Size() int64 { return s.size }

// VSize is the size with CRLF line ends (W=).
func (s *Sizer) VSize() int64 { return s.vsize }
