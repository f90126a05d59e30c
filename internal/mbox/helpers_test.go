package mbox

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

type got struct {
	msgs  []*Message
	data  []string
	warns []Warning
	err   error
}

// onlyReader hides io.ReaderAt and io.Seeker.
type onlyReader struct{ io.Reader }

// splitAll reads every message, reading content with buffers of size bs.
func splitAll(t testing.TB, rd io.Reader, opt Options, bs int) got {
	t.Helper()
	var g got
	r := NewReader(rd, opt)
	buf := make([]byte, bs)
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			g.err = err
			break
		}
		var out bytes.Buffer
		for {
			n, err := m.Read(buf)
			out.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("read message %d: %v", m.Seq, err)
			}
			if n == 0 {
				t.Fatalf("read message %d: no progress", m.Seq)
			}
		}
		if int64(out.Len()) != m.Size {
			t.Fatalf("message %d: Size %d, delivered %d", m.Seq, m.Size, out.Len())
		}
		// the writer trusts LF for W=: it must be the line feeds delivered, in every test
		// that splits through here (and the fuzz test)
		if lf := int64(bytes.Count(out.Bytes(), []byte{'\n'})); lf != m.LF {
			t.Fatalf("message %d: LF %d, delivered %d line feeds", m.Seq, m.LF, lf)
		}
		g.msgs = append(g.msgs, m)
		g.data = append(g.data, out.String())
	}
	g.warns = r.Warnings()
	return g
}

// split runs splitAll over s with several read sizes, checks they agree and
// returns the result.
func split(t testing.TB, s string, opt Options) got {
	t.Helper()
	ref := splitAll(t, strings.NewReader(s), opt, 1<<16)
	for _, bs := range []int{1, 3, 7, 4096} {
		for _, rd := range []io.Reader{strings.NewReader(s), onlyReader{&slowReader{s: s, n: bs}}} {
			g := splitAll(t, rd, opt, bs)
			if !sameStrings(g.data, ref.data) || !errors.Is(g.err, ref.err) && (g.err == nil) != (ref.err == nil) {
				t.Fatalf("read size %d (%T): got %q, want %q (err %v vs %v)", bs, rd, g.data, ref.data, g.err, ref.err)
			}
		}
	}
	return ref
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// slowReader returns at most n bytes per Read.
type slowReader struct {
	s string
	n int
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.s) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, len(r.s))
	copy(p, r.s[:k])
	r.s = r.s[k:]
	return k, nil
}

// asctimeSep accepts "From <sender> <date>" where the date is asctime
// ("Www Mmm dd hh:mm[:ss] [zone] yyyy [zone]") or RFC 822 style
// ("Www, dd Mmm yyyy hh:mm[:ss] [zone]"). It stands in for Dovecot's
// mbox_from_parse in tests (the real parser lives in internal/datefix).
func asctimeSep(line []byte) bool {
	f := strings.Fields(string(line))
	if len(f) < 6 || f[0] != "From" {
		return false
	}
	f = f[2:]
	days := "Mon Tue Wed Thu Fri Sat Sun"
	months := "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"
	w := strings.TrimSuffix(f[0], ",")
	if len(w) != 3 || !strings.Contains(days, w) {
		return false
	}
	f = f[1:]
	var day, mon string
	switch {
	case len(f[0]) == 3 && strings.Contains(months, f[0]):
		mon, day, f = f[0], f[1], f[2:]
	case len(f) > 1 && len(f[1]) == 3 && strings.Contains(months, f[1]):
		day, mon, f = f[0], f[1], f[2:]
		if len(f) > 1 { // RFC 822 order: year before time
			f[0], f[1] = f[1], f[0]
		}
	default:
		return false
	}
	_ = mon
	if !digits(day) || len(day) > 2 || len(f) < 2 {
		return false
	}
	tm := strings.Split(f[0], ":")
	if len(tm) < 2 || len(tm) > 3 {
		return false
	}
	for _, x := range tm {
		if len(x) != 2 || !digits(x) {
			return false
		}
	}
	for _, y := range f[1:] {
		if digits(y) && (len(y) == 4 || len(y) == 2) {
			return true
		}
		if y[0] != '+' && y[0] != '-' && !isUpper(y) {
			return false
		}
	}
	return false
}

func isUpper(s string) bool {
	for _, c := range []byte(s) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// patternReader yields size bytes: head, then fill repeated, then tail.
type patternReader struct {
	head, fill, tail []byte
	size             int64
	off              int64
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.off < r.size {
		switch tailStart := r.size - int64(len(r.tail)); {
		case r.off < int64(len(r.head)):
			k := copy(p[n:], r.head[r.off:])
			n += k
			r.off += int64(k)
			continue
		case r.off >= tailStart:
			k := copy(p[n:], r.tail[r.off-tailStart:])
			n += k
			r.off += int64(k)
			continue
		default:
			i := (r.off - int64(len(r.head))) % int64(len(r.fill))
			lim := min(int64(len(p)-n), tailStart-r.off, int64(len(r.fill))-i)
			k := copy(p[n:n+int(lim)], r.fill[i:])
			n += k
			r.off += int64(k)
		}
	}
	return n, nil
}
