package mbox

import (
	"errors"
	"io"
	"strings"
	"testing"
)

const (
	fa = "From a@example.com Mon Jan  1 00:00:00 2001"
	fb = "From b@example.com Tue Jan  2 00:00:00 2001"
	fc = "From c@example.com Wed Jan  3 00:00:00 2001"
)

var dovecotStrip = []string{"Status", "X-Status", "X-Keywords", "X-UID", "X-IMAP", "X-IMAPbase", "Content-Length"}

func TestSplit(t *testing.T) {
	dated := Options{IsSeparator: asctimeSep}
	tests := []struct {
		name  string
		opt   Options
		in    string
		want  []string
		warns int // -1: don't check
	}{
		{"empty file", Options{}, "", nil, 0},
		{"only From line", Options{}, "From x\n", []string{""}, 0},
		{"From line without newline", Options{}, "From x", []string{""}, 0},
		{"From line then blank line", Options{}, "From x\n\n", []string{""}, 0},
		{"basic", Options{}, "From a\nH: 1\n\nbody\n\nFrom b\nH: 2\n\nbody2\n",
			[]string{"H: 1\n\nbody\n", "H: 2\n\nbody2"}, 0},
		{"no blank line before From", Options{}, "From a\nH: 1\n\nbody\nFrom b\n\nx\n",
			[]string{"H: 1\n\nbody", "\nx"}, 0},
		{"no trailing newline", Options{}, "From a\n\nlast", []string{"\nlast"}, 0},
		{"two trailing newlines", Options{}, "From a\n\nlast\n\n", []string{"\nlast\n"}, 0},
		{"empty message between", Options{}, "From a\n\nFrom b\n\nx\n", []string{"", "\nx"}, 0},
		{"CRLF", Options{}, "From a\r\nH: 1\r\n\r\nbody\r\n\r\nFrom b\r\n\r\nx\r\n",
			[]string{"H: 1\n\nbody\n", "\nx"}, 0},
		{"CRLF end without newline", Options{}, "From a\r\n\r\nx\r", []string{"\nx\r"}, 0},
		{"lone CR and CRCRLF", Options{}, "From a\n\nx\ry\r\r\nz\r\n", []string{"\nx\ry\r\nz"}, 0},
		{"CRCRLF before separator", Options{}, "From a\n\nx\r\r\nFrom b\n", []string{"\nx\r", ""}, 0},
		{"From line right after From line is header", Options{}, "From a\nFrom b\nH: 1\n\nx\n",
			[]string{"From b\nH: 1\n\nx"}, 0},
		{"From line inside headers splits", Options{}, "From a\nH: 1\nFrom b\nH: 2\n\nx\n",
			[]string{"H: 1", "H: 2\n\nx"}, 0},
		{"blank line taken by separator", Options{}, "From a\nH: 1\n\nFrom b\n\nx\n",
			[]string{"H: 1\n", "\nx"}, 0},
		{"date check", dated, fa + "\n\nx\nFrom here we go\n\n" + fb + "\n\ny\n",
			[]string{"\nx\nFrom here we go\n", "\ny"}, 0},
		{"date check in headers", dated, fa + "\nFrom nobody\nH: 1\n" + fb + "\n\ny\n",
			[]string{"From nobody\nH: 1", "\ny"}, 0},
		{"From at EOF without newline is not a separator", Options{}, "From a\n\nx\nFrom b",
			[]string{"\nx\nFrom b"}, 0},
		{"first line date does not parse", dated, "From nobody\n\nx\n", []string{"\nx"}, 1},
		{"mboxo needs blank line", Options{Format: MboxO}, "From a\n\nx\nFrom b\ny\n\nFrom c\n\nz\n",
			[]string{"\nx\nFrom b\ny\n", "\nz"}, 0},
		{"mboxo keeps >From", Options{Format: MboxO}, "From a\n\n>From x\n>>From y\n",
			[]string{"\n>From x\n>>From y"}, 0},
		{"mboxo CRLF blank line", Options{Format: MboxO}, "From a\r\n\r\nx\r\n\r\nFrom b\r\n\r\ny\r\n",
			[]string{"\nx\n", "\ny"}, 0},
		{"mboxo From at EOF", Options{Format: MboxO}, "From a\n\nx\n\nFrom b", []string{"\nx\n", ""}, 0},
		{"mboxrd unquotes", Options{Format: MboxRD},
			"From a\n>From h\n\n>From x\n>>From y\n> From z\n>>>Fro\n>\nFrom w\n>>From ",
			[]string{"From h\n\nFrom x\n>From y\n> From z\n>>>Fro\n>\nFrom w\n>From "}, 0},
		{"mboxrd CRLF", Options{Format: MboxRD}, "From a\r\n\r\n>From x\r\n>>From y\r\n",
			[]string{"\nFrom x\n>From y"}, 0},
		{"auto keeps >From", Options{}, "From a\n\n>From x\n", []string{"\n>From x"}, 0},
		{"strip with continuation", Options{Strip: dovecotStrip},
			"From a\nSubject: s\nStatus: RO\nX-Keywords: a\n b\n\tc\nTo: t\nstatus : x\nX-UID\n\nStatus: body\n",
			[]string{"Subject: s\nTo: t\n\nStatus: body"}, 0},
		{"strip CRLF", Options{Strip: dovecotStrip},
			"From a\r\nStatus: RO\r\n more\r\nTo: t\r\n\r\nStatus: body\r\n",
			[]string{"To: t\n\nStatus: body"}, 0},
		{"strip first line continuation-looking", Options{Strip: []string{"Status"}},
			"From a\n Status: x\nStatus: y\n\n", []string{" Status: x\n"}, 0},
		{"strip header without blank line at end", Options{Strip: []string{"Status"}},
			"From a\nA: 1\nStatus: y", []string{"A: 1\n"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := split(t, tc.in, tc.opt)
			if g.err != nil {
				t.Fatalf("error: %v", g.err)
			}
			if !sameStrings(g.data, tc.want) {
				t.Errorf("got  %q\nwant %q", g.data, tc.want)
			}
			if tc.warns >= 0 && len(g.warns) != tc.warns {
				t.Errorf("warnings: %v, want %d", g.warns, tc.warns)
			}
		})
	}
}

func TestContentLength(t *testing.T) {
	body := "x\nFrom b\nyz\n" // 12 bytes with a From_ line inside
	dated := func(f Format) Options { return Options{Format: f, IsSeparator: asctimeSep} }
	tests := []struct {
		name   string
		opt    Options
		in     string
		want   []string
		used   []bool
		warns  int
		seekOK bool // result only holds when the reader can look ahead (ReaderAt)
	}{
		{"exact", Options{Strip: dovecotStrip},
			"From a\nContent-Length: 12\n\n" + body + "\n" + fc + "\n\nq\n",
			[]string{"\n" + body, "\nq"}, []bool{true, false}, 0, false},
		{"exact, dated", dated(Auto),
			fa + "\nContent-Length: 12\n\n" + body + "\n" + fc + "\n\nq\n",
			[]string{"Content-Length: 12\n\n" + body, "\nq"}, []bool{true, false}, 0, false},
		{"wrong length", Options{},
			"From a\nContent-Length: 11\n\n" + body + "\n" + fc + "\n\nq\n",
			[]string{"Content-Length: 11\n\nx", "yz\n", "\nq"}, []bool{false, false, false}, 1, false},
		{"beyond EOF", Options{},
			"From a\nContent-Length: 500\n\n" + body + "\n" + fc + "\n\nq\n",
			[]string{"Content-Length: 500\n\nx", "yz\n", "\nq"}, []bool{false, false, false}, 1, false},
		{"points at final newline", Options{},
			"From a\nContent-Length: 12\n\n" + body + "\n",
			[]string{"Content-Length: 12\n\n" + body}, []bool{true}, 0, false},
		{"points at EOF without newline (Dovecot refuses)", Options{},
			"From a\nContent-Length: 12\n\n" + body,
			[]string{"Content-Length: 12\n\nx", "yz"}, []bool{false, false}, 1, false},
		{"short From line after length (Dovecot wants 31 bytes)", Options{},
			"From a\nContent-Length: 12\n\n" + body + "\nFrom c\n",
			[]string{"Content-Length: 12\n\nx", "yz\n", ""}, []bool{false, false, false}, 1, false},
		{"CRLF counts raw bytes", Options{},
			"From a\r\nContent-Length: 15\r\n\r\nx\r\nFrom b\r\nyz\r\n\r\n" + fc + "\r\n\r\nq\r\n",
			[]string{"Content-Length: 15\n\nx\nFrom b\nyz\n", "\nq"}, []bool{true, false}, 0, false},
		{"length zero", Options{},
			"From a\nContent-Length: 0\n\n\n" + fc + "\n",
			[]string{"Content-Length: 0\n\n", ""}, []bool{true, false}, 0, false},
		{"two blanks after colon is broken", Options{},
			"From a\nContent-Length:  12\n\n" + body + "\n" + fc + "\n",
			[]string{"Content-Length:  12\n\nx", "yz\n", ""}, []bool{false, false, false}, 0, false},
		{"blank line taken by separator", Options{},
			"From a\nContent-Length: 8\n\nFrom b\nx\n" + fc + "\n",
			[]string{"Content-Length: 8\n\nFrom b\nx", ""}, []bool{true, false}, 0, false},
		{"mboxcl trusts length", Options{Format: MboxCL},
			"From a\nContent-Length: 13\n\nx\n\nFrom b\nyz\nFrom c\n\nq\n",
			[]string{"Content-Length: 13\n\nx\n\nFrom b\nyz\n", "\nq"}, []bool{true, false}, 0, false},
		{"mboxcl2 separator newline", Options{Format: MboxCL2},
			"From a\nContent-Length: 3\n\nyz\n\nFrom c\n\nq\n",
			[]string{"Content-Length: 3\n\nyz\n", "\nq"}, []bool{true, false}, 0, false},
		{"mboxcl bad length falls back", Options{Format: MboxCL},
			"From a\nContent-Length: 4\n\nx\n\nFrom b\nyz\n",
			[]string{"Content-Length: 4\n\nx\n", "yz"}, []bool{false, false}, 1, false},
		{"mboxcl beyond EOF falls back", Options{Format: MboxCL},
			"From a\nContent-Length: 400\n\nx\n\nFrom b\nyz\n",
			[]string{"Content-Length: 400\n\nx\n", "yz"}, []bool{false, false}, 1, false},
		{"mboxo ignores length", Options{Format: MboxO},
			"From a\nContent-Length: 13\n\nx\n\nFrom b\nyz\n",
			[]string{"Content-Length: 13\n\nx\n", "yz"}, []bool{false, false}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := split(t, tc.in, tc.opt)
			if g.err != nil {
				t.Fatalf("error: %v", g.err)
			}
			if !sameStrings(g.data, tc.want) {
				t.Fatalf("got  %q\nwant %q", g.data, tc.want)
			}
			for i, m := range g.msgs {
				if m.ContentLengthUsed != tc.used[i] {
					t.Errorf("message %d: ContentLengthUsed %v", i+1, m.ContentLengthUsed)
				}
			}
			if len(g.warns) != tc.warns {
				t.Errorf("warnings %v, want %d", g.warns, tc.warns)
			}
		})
	}
}

// A Content-Length that reaches beyond the buffer: honoured when the input
// can be read at offsets, otherwise the message is split with a warning.
func TestContentLengthFarAhead(t *testing.T) {
	filler := strings.Repeat("0123456789abcdef\n", 10000) // 170 000 bytes
	body := "x\n" + fb + "\n" + filler
	in := fa + "\nContent-Length: " + itoa(len(body)) + "\n\n" + body + "\n" + fc + "\n\nq\n"
	opt := Options{IsSeparator: asctimeSep}
	g := splitAll(t, strings.NewReader(in), opt, 4096)
	if len(g.data) != 2 || !g.msgs[0].ContentLengthUsed || len(g.warns) != 0 {
		t.Fatalf("seekable: %d messages, warnings %v", len(g.data), g.warns)
	}
	if !strings.HasSuffix(g.data[0], filler) || g.data[1] != "\nq" {
		t.Fatalf("seekable: wrong content")
	}
	g = splitAll(t, onlyReader{strings.NewReader(in)}, opt, 4096)
	if len(g.data) != 3 || len(g.warns) != 1 || !strings.Contains(g.warns[0].Message, "not seekable") {
		t.Fatalf("stream: %d messages, warnings %v", len(g.data), g.warns)
	}
	// MboxCL trusts the length on a stream
	in = "From a\nContent-Length: " + itoa(len(body)) + "\n\n" + body + "From c\n\nq\n"
	g = splitAll(t, onlyReader{strings.NewReader(in)}, Options{Format: MboxCL}, 4096)
	if len(g.data) != 2 || !g.msgs[0].ContentLengthUsed || len(g.warns) != 0 || g.data[1] != "\nq" {
		t.Fatalf("mboxcl stream: %d messages, warnings %v", len(g.data), g.warns)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestPositions(t *testing.T) {
	in := "From a\nH: 1\n\nbody\n\nFrom b\r\nH: 2\r\n\r\nx\r\nFrom c\n"
	g := split(t, in, Options{})
	want := []struct {
		off, line int64
		from      string
	}{{0, 1, "From a"}, {int64(strings.Index(in, "From b")), 6, "From b"}, {int64(strings.Index(in, "From c")), 10, "From c"}}
	if len(g.msgs) != len(want) {
		t.Fatalf("%d messages", len(g.msgs))
	}
	for i, w := range want {
		m := g.msgs[i]
		if m.Offset != int64(w.off) || m.Line != w.line || string(m.FromLine) != w.from || m.Seq != i+1 {
			t.Errorf("message %d: offset %d line %d from %q seq %d, want %d %d %q", i+1, m.Offset, m.Line, m.FromLine, m.Seq, w.off, w.line, w.from)
		}
	}
	if !g.msgs[0].HeaderEnded || !g.msgs[1].HeaderEnded || g.msgs[2].HeaderEnded {
		t.Errorf("HeaderEnded wrong")
	}
}

func TestCapture(t *testing.T) {
	long := strings.Repeat("v", MaxFieldLen+100)
	var rcv strings.Builder
	for i := range 70 {
		rcv.WriteString("Received: r" + itoa(i) + "\n")
	}
	for i := range 70 {
		rcv.WriteString("X-A: a" + itoa(i) + "\n")
	}
	in := "From a\nSubject:   hello\n\tworld \r\nsubject:\n  two\nX-Long: " + long + "\nStatus: RO\n" +
		rcv.String() + "\nSubject: body\n"
	g := split(t, in, Options{Capture: []string{"Subject", "X-Long", "Status", "Received", "X-A"}, Strip: []string{"Status"}})
	f := g.msgs[0].Fields
	byName := map[string][]Field{}
	for _, x := range f {
		byName[x.Name] = append(byName[x.Name], x)
	}
	if s := byName["Subject"]; len(s) != 2 || s[0].Value != "hello\tworld " || s[1].Value != "two" || s[0].Line != 2 || s[1].Line != 4 {
		t.Errorf("Subject: %+v", s)
	}
	if l := byName["X-Long"]; len(l) != 1 || !l[0].Truncated || len(l[0].Value) != MaxFieldLen {
		t.Errorf("X-Long truncated wrong: %d fields", len(l))
	}
	if s := byName["Status"]; len(s) != 1 || s[0].Value != "RO" {
		t.Errorf("Status: %+v", s)
	}
	if r := byName["Received"]; len(r) != 64 || r[0].Value != "r6" || r[63].Value != "r69" {
		t.Errorf("Received: %d, first %+v", len(r), r[0])
	}
	if a := byName["X-A"]; len(a) != 64 || a[0].Value != "a0" || a[63].Value != "a63" {
		t.Errorf("X-A: %d", len(a))
	}
	if strings.Contains(g.data[0], "Status: RO") || !strings.HasSuffix(g.data[0], "\nSubject: body") {
		t.Errorf("content wrong")
	}
	if len(g.warns) != 1 || g.warns[0].Line != 6 {
		t.Errorf("warnings %v", g.warns)
	}
}

func TestFormatErrors(t *testing.T) {
	tests := []struct{ in, reason string }{
		{"Received: x\n\nbody\n", "does not start with a From_ line"},
		{"\nFrom a\n", "does not start with a From_ line"},
		{"From a\rSubject: x\r\rbody\r", "CR-only"},
		{"From " + strings.Repeat("\x00", 100), "binary"},
		{"Fro", "does not start"},
	}
	for _, tc := range tests {
		r := NewReader(strings.NewReader(tc.in), Options{})
		_, err := r.Next()
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%q: err %v, want FormatError with %q", tc.in, err, tc.reason)
		}
		if _, err2 := r.Next(); err2 != err {
			t.Errorf("%q: error not sticky", tc.in)
		}
	}
	r := NewReader(strings.NewReader(""), Options{})
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("empty: %v", err)
	}
}

func TestParseFormat(t *testing.T) {
	for f := Auto; f <= MboxCL2; f++ {
		g, err := ParseFormat(strings.ToUpper(f.String()))
		if err != nil || g != f {
			t.Errorf("%v: %v %v", f, g, err)
		}
	}
	if _, err := ParseFormat("maildir"); err == nil {
		t.Error("maildir accepted")
	}
}

// Next without reading skips the message and still splits by its headers.
func TestNextSkips(t *testing.T) {
	in := "From a\nContent-Length: 12\n\nx\nFrom b\nyz\n\n" + fc + "\n\nq\n"
	r := NewReader(strings.NewReader(in), Options{})
	var froms []string
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		froms = append(froms, string(m.FromLine))
	}
	if len(froms) != 2 || froms[1] != fc {
		t.Fatalf("got %q", froms)
	}
	// reading a skipped message fails
	r = NewReader(strings.NewReader("From a\n\nx\nFrom b\n\n"), Options{})
	m1, _ := r.Next()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := m1.Read(make([]byte, 10)); err == nil || err == io.EOF {
		t.Errorf("stale read: %v", err)
	}
}
