package mbox

import (
	"bytes"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var quoteRE = regexp.MustCompile(`(?m)^(>*From )`)

func rdQuote(s string) string { return quoteRE.ReplaceAllString(s, ">$1") }

// rdMessages turns fuzz data into message contents that an mboxrd writer can
// store: no CR, no NUL, split at 0xFF, each ending in "\n" unless empty.
func rdMessages(data []byte) []string {
	clean := bytes.Map(func(r rune) rune {
		switch r {
		case '\r':
			return -1
		case 0:
			return 'x'
		}
		return r
	}, data)
	parts := strings.Split(string(clean), "\uFFFD") // 0xFF bytes map to U+FFFD
	var out []string
	for _, p := range parts {
		if p != "" && !strings.HasSuffix(p, "\n") {
			p += "\n"
		}
		out = append(out, p)
	}
	return out
}

func rdJoin(msgs []string) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("From fuzz@example.com Mon Jan  1 00:00:00 2001\n")
		b.WriteString(rdQuote(m))
		b.WriteString("\n")
	}
	return b.String()
}

func FuzzReader(f *testing.F) {
	seeds := []string{
		"", "From a\n", "From a\n\nx\nFrom b\n\n>From c\n",
		"From a\r\nContent-Length: 3\r\n\r\nabc\r\nFrom b\r\n",
		"From a\nStatus: RO\n X\nContent-Length: 0\n\n\nFrom a Mon Jan  1 00:00:00 2001\n",
		"From a\n>>From x\n\n>From \n\xffFrom y\n\xff\xff>From",
		"From a\nContent-Length: 12\n\nx\nFrom b\nyz\n\n" + fc + "\n\nq\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data)
		for _, opt := range []Options{
			{},
			{IsSeparator: asctimeSep, Strip: dovecotStrip, Capture: []string{"Subject", "Received", "Status"}},
			{Format: MboxO}, {Format: MboxRD, Strip: []string{"Status"}}, {Format: MboxCL}, {Format: MboxCL2, Capture: []string{"X"}},
		} {
			ref := splitAll(t, strings.NewReader(s), opt, 1<<16)
			var fe *FormatError
			if ref.err != nil && !errors.As(ref.err, &fe) {
				t.Fatalf("%v: unexpected error %v", opt.Format, ref.err)
			}
			var total int64
			prev := int64(-1)
			prevLine := int64(0)
			for _, m := range ref.msgs {
				if m.Offset <= prev || m.Offset >= int64(len(s)) || m.Line <= prevLine {
					t.Fatalf("%v: message %d at offset %d line %d after %d/%d", opt.Format, m.Seq, m.Offset, m.Line, prev, prevLine)
				}
				if !strings.HasPrefix(s[m.Offset:], "From ") {
					t.Fatalf("%v: message %d does not start with From", opt.Format, m.Seq)
				}
				if int64(strings.Count(s[:m.Offset], "\n"))+1 != m.Line {
					t.Fatalf("%v: message %d line %d wrong", opt.Format, m.Seq, m.Line)
				}
				prev, prevLine = m.Offset, m.Line
				total += m.Size
			}
			if total > int64(len(s)) {
				t.Fatalf("%v: %d content bytes from %d input bytes", opt.Format, total, len(s))
			}
			for _, bs := range []int{1, 5} {
				g := splitAll(t, onlyReader{&slowReader{s: s, n: bs + 2}}, opt, bs)
				if !sameStrings(g.data, ref.data) {
					t.Fatalf("%v: read size %d: got %q, want %q", opt.Format, bs, g.data, ref.data)
				}
				// the captured fields too: the fast header path (whole lines, large reads)
				// and the slow one (a byte or a few at a time) capture the same
				for i, m := range g.msgs {
					if !reflect.DeepEqual(m.Fields, ref.msgs[i].Fields) {
						t.Fatalf("%v: read size %d: message %d fields %+v, want %+v", opt.Format, bs, i+1, m.Fields, ref.msgs[i].Fields)
					}
				}
			}
		}

		// mboxrd round trip: quote + join, split + unquote, re-quote + re-join
		msgs := rdMessages(data)
		in := rdJoin(msgs)
		g := splitAll(t, strings.NewReader(in), Options{Format: MboxRD}, 1<<16)
		if g.err != nil {
			t.Fatalf("mboxrd: %v", g.err)
		}
		if !sameStrings(g.data, msgs) {
			t.Fatalf("mboxrd split: got %q, want %q", g.data, msgs)
		}
		if out := rdJoin(g.data); out != in {
			t.Fatalf("mboxrd re-join differs")
		}
	})
}
