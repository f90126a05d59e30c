package mbox

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

type mb2mdGot struct {
	content        string
	line           int64
	from           string
	dummy, cutHead bool
}

func readAllMB2MD(t *testing.T, in string, opt MB2MDOptions) ([]mb2mdGot, *MB2MDReader, error) {
	t.Helper()
	rd := NewMB2MDReader(strings.NewReader(in), opt)
	var out []mb2mdGot
	for {
		var buf bytes.Buffer
		m, err := rd.Next(&buf)
		if err == io.EOF {
			return out, rd, nil
		}
		if err != nil {
			return out, rd, err
		}
		if m.Size != int64(buf.Len()) {
			t.Errorf("message %d: Size %d, wrote %d", m.Seq, m.Size, buf.Len())
		}
		out = append(out, mb2mdGot{buf.String(), m.Line, string(m.FromLine), m.Dummy, m.EndedInHeaders})
	}
}

func contents(ms []mb2mdGot) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.content)
	}
	return s
}

func TestMB2MDReaderRules(t *testing.T) {
	const f1 = "From a@b Mon Apr  1 10:00:00 2002\n"
	const f2 = "From c@d Tue Apr  2 10:00:00 2002\n"
	tests := []struct {
		name string
		in   string
		cl   bool
		want []string
	}{
		{"separator line kept", f1 + "S: 1\n\nbody\n\n" + f2 + "S: 2\n\nb2\n", false,
			[]string{"S: 1\n\nbody\n\n", "S: 2\n\nb2\n"}},
		{"From_ needs a blank line before it", f1 + "S: 1\n\nbody\n" + f2 + "\nx\n", false,
			[]string{"S: 1\n\nbody\n" + f2 + "\nx\n"}},
		{"whitespace-only line is not blank", f1 + "S: 1\n\nbody\n \n" + f2, false,
			[]string{"S: 1\n\nbody\n \n" + f2}},
		{"From_ needs hh:mm", f1 + "\nbody\n\nFrom here on Monday\n", false,
			[]string{"\nbody\n\nFrom here on Monday\n"}},
		{"From_ token then exactly one space", f1 + "\nbody\n\nFrom x\t10:30\n\nFrom  x y 10:30\nS: 2\n\nz\n", false,
			[]string{"\nbody\n\nFrom x\t10:30\n\n", "S: 2\n\nz\n"}},
		{"mboxo ambiguity splits", f1 + "\nbody\n\nFrom the meeting at 10:30\nStatus: RO\n\nrest\n", false,
			[]string{"\nbody\n\n", "Status: RO\n\nrest\n"}},
		{"From lines in headers dropped", f1 + "From again@x Mon Apr  1 10:00:00 2002\nS: 1\nFrom junk\n\nbody\n", false,
			[]string{"S: 1\n\nbody\n"}},
		{"whitespace-only line keeps the header phase", f1 + "S: 1\n \nbody\nFrom inside 10:00\n\nafter\n", false,
			[]string{"S: 1\n \nbody\n\nafter\n"}},
		{">From unquoted one level in the body only", f1 + ">From h\n\n>From b\n>>From c\n> From d\n>From: e\n", false,
			[]string{">From h\n\nFrom b\n>>From c\n> From d\n>From: e\n"}},
		{"CRLF folded, lone CR and CRCRLF", "From a@b Mon Apr  1 10:00:00 2002\r\nS: 1\r\n\r\na\rb\r\nc\r\r\n", false,
			[]string{"S: 1\n\na\rb\nc\r\n"}},
		{"no newline at the end", f1 + "S: 1\n\nlast", false, []string{"S: 1\n\nlast"}},
		{"no headers", f1 + "\nbody only\n\n", false, []string{"\nbody only\n\n"}},
		{"From_ right after the header end", f1 + "S: 1\n\n" + f2 + "S: 2\n\nx\n", false, []string{"S: 1\n\n", "S: 2\n\nx\n"}},
		// -c
		{"-c protects a From_ line in the body", f1 + "Content-Length: 37\n\n" + f2 + "\nx\n\n" + f2 + "S: 2\n\nb\n", true,
			[]string{"Content-Length: 37\n\n" + f2 + "\nx\n", "S: 2\n\nb\n"}},
		{"-c B3 fixed", f1 + "Content-Length: 4\n\none\n\n" + f2 + "Content-Length: 4\n\ntwo\n", true,
			[]string{"Content-Length: 4\n\none\n", "Content-Length: 4\n\ntwo\n"}},
		{"-c CRLF-counted length", "From a@b Mon Apr  1 10:00:00 2002\r\nContent-Length: 6\r\n\r\nab\r\n\r\n\r\n" + f2 + "\r\nb\r\n", true,
			[]string{"Content-Length: 6\n\nab\n\n", "\nb\n"}},
		{"-c wrong length: cleared, line written", f1 + "Content-Length: 2\n\nabc\n\n" + f2 + "\nb\n", true,
			[]string{"Content-Length: 2\n\nabc\n\n", "\nb\n"}},
		{"-c length beyond the end swallows all", f1 + "Content-Length: 999\n\na\n\n" + f2 + "\nb\n", true,
			[]string{"Content-Length: 999\n\na\n\n" + f2 + "\nb\n"}},
		{"-c pattern is exact", f1 + "Content-Length: 2 \n\nabc\n\n" + f2 + "\nb\n", true,
			[]string{"Content-Length: 2 \n\nabc\n\n", "\nb\n"}},
		{"without -c the length is ignored", f1 + "Content-Length: 20\n\n" + f2 + "\nx\n\n", false,
			[]string{"Content-Length: 20\n\n", "\nx\n\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := readAllMB2MD(t, tc.in, MB2MDOptions{ContentLength: tc.cl})
			if err != nil {
				t.Fatal(err)
			}
			if g, w := contents(got), tc.want; strings.Join(g, "|") != strings.Join(w, "|") {
				t.Errorf("got  %q\nwant %q", g, w)
			}
		})
	}
}

func TestMB2MDReaderWarningsAndEnds(t *testing.T) {
	const f1 = "From a@b Mon Apr  1 10:00:00 2002\n"
	t.Run("B3 reported", func(t *testing.T) {
		in := f1 + "Content-Length: 4\n\none\n\n" + "From c@d Tue Apr  2 10:00:00 2002\n\ntwo\n"
		_, rd, err := readAllMB2MD(t, in, MB2MDOptions{ContentLength: true})
		if err != nil {
			t.Fatal(err)
		}
		if w := rd.Warnings(); len(w) != 1 || w[0].Line != 6 || !strings.Contains(w[0].Message, "bug B3") {
			t.Errorf("warnings %+v", w)
		}
	})
	t.Run("no B3 warning when the body ends with a blank line", func(t *testing.T) {
		in := f1 + "Content-Length: 5\n\none\n\n\n" + "From c@d Tue Apr  2 10:00:00 2002\n\ntwo\n"
		_, rd, _ := readAllMB2MD(t, in, MB2MDOptions{ContentLength: true})
		if w := rd.Warnings(); len(w) != 0 {
			t.Errorf("warnings %+v", w)
		}
	})
	t.Run("EOF inside headers keeps the message", func(t *testing.T) {
		got, _, err := readAllMB2MD(t, f1+"\nb\n\nFrom c@d Tue Apr  2 10:00:00 2002\nS: x\n", MB2MDOptions{})
		if err != nil || len(got) != 2 || got[1].content != "S: x\n" || !got[1].cutHead || got[0].cutHead || got[1].line != 5 {
			t.Errorf("got %+v, %v", got, err)
		}
		if got[1].from != "From c@d Tue Apr  2 10:00:00 2002" {
			t.Errorf("from %q", got[1].from)
		}
	})
	t.Run("UW pseudo message first only", func(t *testing.T) {
		d := "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n\nx\n\n"
		got, _, _ := readAllMB2MD(t, f1+d+f1+d, MB2MDOptions{})
		if len(got) != 2 || !got[0].dummy || got[1].dummy {
			t.Errorf("got %+v", got)
		}
		got, _, _ = readAllMB2MD(t, f1+"Subject: x\n\n\n"+f1+d, MB2MDOptions{})
		if len(got) != 2 || got[0].dummy || got[1].dummy {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("empty input", func(t *testing.T) {
		got, _, err := readAllMB2MD(t, "", MB2MDOptions{})
		if err != nil || len(got) != 0 {
			t.Errorf("got %+v, %v", got, err)
		}
	})
	for _, in := range []string{"\n" + f1, "From: a@b\n\n", "From a@b Mon Apr  1 1996\n\nx\n"} {
		_, _, err := readAllMB2MD(t, in, MB2MDOptions{})
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Line != 1 {
			t.Errorf("%q: error %v, want a FormatError at line 1", in, err)
		}
	}
	t.Run("CR-only is B10", func(t *testing.T) {
		_, _, err := readAllMB2MD(t, "From a@b Mon Apr  1 10:00:00 2002\rSubject: x\r\rbody\r", MB2MDOptions{})
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "bug B10") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("header lines", func(t *testing.T) {
		var lines []string
		in := "From a@b Mon Apr  1 10:00:00 2002\r\nStatus: RO\r\nFrom x\n\nStatus: O\n"
		_, _, err := readAllMB2MD(t, in, MB2MDOptions{HeaderLine: func(l []byte) { lines = append(lines, string(l)) }})
		if err != nil || strings.Join(lines, "|") != "Status: RO" {
			t.Errorf("header lines %q, %v", lines, err)
		}
	})
}

func TestIsMB2MDFromLine(t *testing.T) {
	for in, want := range map[string]bool{
		"From a@b Mon Apr  1 10:00:00 2002\n": true,
		"From  a@b x 10:00\r\n":               true,
		"From a b12:34":                       true,
		"From a 12:34":                        true,
		"From a  12:34":                       true,
		"From a\t12:34":                       false,
		"From a 1:34":                         false,
		"From  12:34":                         false,
		"From: a 12:34":                       false,
		"from a b 12:34":                      false,
	} {
		if got := IsMB2MDFromLine([]byte(in)); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}

// Long lines are streamed in 64 KiB pieces; CRLF folding and the From_ test still apply.
func TestMB2MDReaderLongLines(t *testing.T) {
	long := strings.Repeat("x", mb2mdChunk-1) // the CR of CRLF is the last byte of a chunk
	in := "From a@b Mon Apr  1 10:00:00 2002 " + strings.Repeat(" ", 2*mb2mdChunk) + "\n" +
		"S: 1\n\n" + long + "\r\n>From " + long + long + "\r\n\n" +
		"From c@d Tue Apr  2 10:00:00 2002\n\nend\r"
	got, _, err := readAllMB2MD(t, in, MB2MDOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"S: 1\n\n" + long + "\nFrom " + long + long + "\n\n", "\nend\r"}
	if len(got) != 2 || got[0].content != want[0] || got[1].content != want[1] {
		t.Fatalf("got %d messages, sizes %v", len(got), func() (s []int) {
			for _, g := range got {
				s = append(s, len(g.content))
			}
			return
		}())
	}
	if len(got[0].from) != MaxFromLine {
		t.Errorf("From_ line kept %d bytes, want %d", len(got[0].from), MaxFromLine)
	}
}
