package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func cfg(mod func(*config)) config {
	c := defaultConfig()
	c.Count = 300
	c.SizeMB = 2
	if mod != nil {
		mod(&c)
	}
	return c
}

func genBytes(t *testing.T, c config) []byte {
	t.Helper()
	var buf bytes.Buffer
	st, err := generate(&buf, c)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	if st.Bytes != int64(buf.Len()) {
		t.Fatalf("generate reported %d bytes, wrote %d", st.Bytes, buf.Len())
	}
	return buf.Bytes()
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// runCLI runs the command line and returns the sha256 of the output file.
func runCLI(t *testing.T, args ...string) (string, []byte) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.mbox")
	var stdout, stderr bytes.Buffer
	if code := run(append(args, "-o", out), &stdout, &stderr); code != 0 {
		t.Fatalf("run %v: exit %d: %s", args, code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "genmbox: ") {
		t.Errorf("no summary on stderr: %q", stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return sum(b), b
}

func TestDeterministic(t *testing.T) {
	args := []string{"-n", "400", "--size-mb", "3", "--seed", "7", "--flags", "--attach-ratio", "0.2"}
	h1, b1 := runCLI(t, args...)
	h2, _ := runCLI(t, args...)
	if h1 != h2 {
		t.Fatalf("same arguments, different output: %s vs %s", h1, h2)
	}
	// the library call gives the same bytes as the command line
	c := cfg(func(c *config) { c.Count, c.SizeMB, c.Seed, c.Flags, c.AttachRatio = 400, 3, 7, true, 0.2 })
	if h := sum(genBytes(t, c)); h != h1 {
		t.Errorf("generate and the command line differ: %s vs %s", h, h1)
	}
	h3, _ := runCLI(t, "-n", "400", "--size-mb", "3", "--seed", "8", "--flags", "--attach-ratio", "0.2")
	if h3 == h1 {
		t.Errorf("seeds 7 and 8 gave the same output")
	}
	if len(b1) == 0 {
		t.Fatal("empty output")
	}
}

var fromLineRE = regexp.MustCompile(`^From [a-z]+\.[a-z]+@[a-z.]+ (Mon|Tue|Wed|Thu|Fri|Sat|Sun) ` +
	`(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123]\d \d\d:\d\d:\d\d (\d{4})$`)

type message struct {
	fromLine string
	header   []string // unfolded lines as written (continuations kept separate)
	body     []string
}

// split parses LF mbox text the strict way: a separator is a line that
// starts with "From " at the start of the file or after a blank line. It
// fails the test on any other line that starts with "From ", so that it
// also checks the quoting.
func split(t *testing.T, data []byte) []message {
	t.Helper()
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("output does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	var msgs []message
	inHeader := false
	for i, l := range lines {
		if strings.HasPrefix(l, "From ") {
			if i > 0 && lines[i-1] != "" {
				t.Fatalf("line %d: unquoted %q not after a blank line", i+1, l)
			}
			if !fromLineRE.MatchString(l) {
				t.Fatalf("line %d: unquoted %q in a body or a malformed From_ line", i+1, l)
			}
			if i+1 >= len(lines) || !(strings.HasPrefix(lines[i+1], "Return-Path: ") ||
				strings.HasPrefix(lines[i+1], "X-IMAPbase: ")) {
				t.Fatalf("line %d: From_ line not followed by a header", i+1)
			}
			msgs = append(msgs, message{fromLine: l})
			inHeader = true
			continue
		}
		if len(msgs) == 0 {
			t.Fatalf("line %d: text before the first From_ line", i+1)
		}
		m := &msgs[len(msgs)-1]
		switch {
		case inHeader && l == "":
			inHeader = false
		case inHeader:
			m.header = append(m.header, l)
		default:
			m.body = append(m.body, l)
		}
	}
	return msgs
}

func header(m message, name string) (string, bool) {
	for _, h := range m.header {
		if v, ok := strings.CutPrefix(h, name+":"); ok {
			return strings.TrimPrefix(v, " "), true
		}
	}
	return "", false
}

func TestFromSeparatorsEqualCount(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*config)
	}{
		{"plain", nil},
		{"flags", func(c *config) { c.Flags = true }},
		{"mboxo", func(c *config) { c.Escape = "mboxo"; c.FromLines = 0.3 }},
		{"all attachments", func(c *config) { c.AttachRatio = 1; c.Count = 57 }},
		{"no attachments", func(c *config) { c.AttachRatio = 0; c.Count = 1234 }},
		{"one", func(c *config) { c.Count = 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg(tc.mod)
			data := genBytes(t, c)
			msgs := split(t, data)
			if len(msgs) != c.Count {
				t.Fatalf("%d From_ separators, want %d", len(msgs), c.Count)
			}
			if got := bytes.Count(data, []byte("\n\nFrom ")) + 1; got != c.Count {
				t.Errorf("%d blank-line + From_ sequences, want %d", got, c.Count)
			}
			for i, m := range msgs {
				for _, h := range []string{"Return-Path", "Received", "From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"} {
					if _, ok := header(m, h); !ok {
						t.Fatalf("message %d has no %s header", i+1, h)
					}
				}
			}
		})
	}
	t.Run("zero", func(t *testing.T) {
		if data := genBytes(t, cfg(func(c *config) { c.Count = 0 })); len(data) != 0 {
			t.Errorf("-n 0 wrote %d bytes", len(data))
		}
	})
}

func TestDatesSpreadOverYears(t *testing.T) {
	msgs := split(t, genBytes(t, cfg(nil)))
	first := fromLineRE.FindStringSubmatch(msgs[0].fromLine)
	last := fromLineRE.FindStringSubmatch(msgs[len(msgs)-1].fromLine)
	y1, _ := strconv.Atoi(first[3])
	y2, _ := strconv.Atoi(last[3])
	if y2-y1 < 5 {
		t.Errorf("From_ dates span %d..%d, want several years", y1, y2)
	}
}

func TestSizeNearTarget(t *testing.T) {
	c := cfg(func(c *config) { c.Count, c.SizeMB = 2000, 8 })
	n := float64(len(genBytes(t, c)))
	want := c.SizeMB * mib
	if n < 0.9*want || n > 1.1*want {
		t.Errorf("size %.0f bytes, want within 10%% of %.0f", n, want)
	}
}

func TestAttachmentsAreValidBase64(t *testing.T) {
	c := cfg(func(c *config) { c.AttachRatio = 0.5 })
	msgs := split(t, genBytes(t, c))
	found := 0
	for _, m := range msgs {
		ct, _ := header(m, "Content-Type")
		if !strings.HasPrefix(ct, "multipart/mixed") {
			continue
		}
		found++
		data := attachment(t, m.body)
		if len(data) < 64 {
			t.Errorf("attachment of %d bytes, want at least 64", len(data))
		}
	}
	if found < 100 || found > 200 {
		t.Errorf("%d of %d messages have attachments, want about half", found, len(msgs))
	}
}

// attachment decodes the base64 part of a body as written by message.
func attachment(t *testing.T, body []string) []byte {
	t.Helper()
	var b64 strings.Builder
	in := false
	for _, l := range body {
		switch {
		case l == "Content-Transfer-Encoding: base64":
			in = true
		case in && strings.HasPrefix(l, "--=_b"):
			data, err := base64.StdEncoding.Strict().DecodeString(b64.String())
			if err != nil {
				t.Fatalf("attachment: %v", err)
			}
			return data
		case in && strings.HasPrefix(l, "Content-"), in && l == "":
		case in:
			if len(l) > 76 {
				t.Fatalf("base64 line of %d columns", len(l))
			}
			b64.WriteString(l)
		}
	}
	t.Fatal("no base64 part found")
	return nil
}

func TestFlagsHeaders(t *testing.T) {
	c := cfg(func(c *config) { c.Flags = true; c.Count = 500 })
	msgs := split(t, genBytes(t, c))
	base, ok := header(msgs[0], "X-IMAPbase")
	if !ok {
		t.Fatal("first message has no X-IMAPbase")
	}
	f := strings.Fields(base)
	if len(f) < 3 {
		t.Fatalf("X-IMAPbase %q: want UIDVALIDITY, last UID and keywords", base)
	}
	if v, err := strconv.ParseUint(f[0], 10, 32); err != nil || v == 0 {
		t.Errorf("UIDVALIDITY %q is not a positive 32-bit number", f[0])
	}
	lastUID, err := strconv.ParseUint(f[1], 10, 32)
	if err != nil {
		t.Fatalf("last UID %q: %v", f[1], err)
	}
	declared := map[string]bool{}
	for _, k := range f[2:] {
		declared[k] = true
	}
	var prev uint64
	keywordsSeen := 0
	statusRE := regexp.MustCompile(`^R?O?$`)
	xstatusRE := regexp.MustCompile(`^A?F?T?D?$`)
	for i, m := range msgs {
		if _, ok := header(m, "X-IMAPbase"); ok && i > 0 {
			t.Errorf("message %d has an X-IMAPbase too", i+1)
		}
		st, ok1 := header(m, "Status")
		xs, ok2 := header(m, "X-Status")
		kw, ok3 := header(m, "X-Keywords")
		us, ok4 := header(m, "X-UID")
		if !ok1 || !ok2 || !ok3 || !ok4 {
			t.Fatalf("message %d lacks Status/X-Status/X-Keywords/X-UID: %q", i+1, m.header)
		}
		if st == "" || !statusRE.MatchString(st) || !xstatusRE.MatchString(xs) {
			t.Errorf("message %d: Status %q X-Status %q", i+1, st, xs)
		}
		for _, k := range strings.Fields(kw) {
			keywordsSeen++
			if !declared[k] {
				t.Errorf("message %d: keyword %q not declared in X-IMAPbase", i+1, k)
			}
		}
		uid, err := strconv.ParseUint(us, 10, 32)
		if err != nil || uid <= prev {
			t.Fatalf("message %d: X-UID %q after %d, want strictly increasing", i+1, us, prev)
		}
		prev = uid
	}
	if prev > lastUID {
		t.Errorf("last X-UID %d exceeds the X-IMAPbase last UID %d", prev, lastUID)
	}
	if keywordsSeen == 0 {
		t.Error("no message has keywords")
	}
	// without --flags none of these headers appear
	plain := genBytes(t, cfg(nil))
	for _, h := range []string{"\nX-IMAPbase:", "\nX-UID:", "\nStatus:", "\nX-Status:", "\nX-Keywords:"} {
		if bytes.Contains(plain, []byte(h)) {
			t.Errorf("plain output has %s", strings.TrimSpace(h))
		}
	}
}

func TestQuoting(t *testing.T) {
	for _, esc := range []string{"mboxrd", "mboxo"} {
		t.Run(esc, func(t *testing.T) {
			c := cfg(func(c *config) { c.Escape = esc; c.FromLines = 0.2 })
			data := genBytes(t, c)
			msgs := split(t, data) // fails on any unquoted body "From " line
			if len(msgs) != c.Count {
				t.Fatalf("%d messages, want %d", len(msgs), c.Count)
			}
			quoted, twice, already := 0, 0, 0
			for _, m := range msgs {
				for _, l := range m.body {
					switch {
					case strings.HasPrefix(l, ">>From "):
						twice++
					case strings.HasPrefix(l, ">From "):
						quoted++
					}
					if strings.TrimLeft(l, ">") == "From an already quoted line" {
						already++
					}
				}
			}
			if quoted == 0 || already == 0 {
				t.Fatalf("quoted %d, already-quoted %d: the test input lacks From lines", quoted, already)
			}
			switch esc {
			case "mboxrd": // ">From" in the text gets one more ">"
				if twice != already {
					t.Errorf(">>From lines %d, want %d (each >From of the text quoted once more)", twice, already)
				}
			case "mboxo": // only "From " is quoted
				if twice != 0 {
					t.Errorf("mboxo output has %d >>From lines", twice)
				}
			}
		})
	}
	t.Run("blank lines in bodies", func(t *testing.T) {
		msgs := split(t, genBytes(t, cfg(nil)))
		withBlank := 0
		for _, m := range msgs {
			for _, l := range m.body[:max(0, len(m.body)-1)] {
				if l == "" {
					withBlank++
					break
				}
			}
		}
		if withBlank < len(msgs)/4 {
			t.Errorf("only %d of %d bodies have blank lines", withBlank, len(msgs))
		}
	})
}

func TestCRLF(t *testing.T) {
	lf := genBytes(t, cfg(func(c *config) { c.Flags = true }))
	crlf := genBytes(t, cfg(func(c *config) { c.Flags = true; c.CRLF = true }))
	if want := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n")); !bytes.Equal(crlf, want) {
		t.Fatalf("CRLF output is not the LF output with CRLF line ends (%d vs %d bytes)", len(crlf), len(want))
	}
	if bytes.Contains(lf, []byte("\r")) {
		t.Error("LF output contains CR")
	}
}

// countWriter counts bytes and keeps the first and last 4 KiB, in fixed
// memory of its own.
type countWriter struct {
	n    int64
	head []byte
	tail []byte
}

func newCountWriter() *countWriter {
	return &countWriter{head: make([]byte, 0, 4096), tail: make([]byte, 0, 8192)}
}

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if len(w.head) < 4096 {
		w.head = append(w.head, p[:min(len(p), 4096-len(w.head))]...)
	}
	if len(p) >= 4096 {
		w.tail = append(w.tail[:0], p[len(p)-4096:]...)
	} else {
		if len(w.tail)+len(p) > cap(w.tail) {
			w.tail = w.tail[:copy(w.tail, w.tail[len(w.tail)-4096:])]
		}
		w.tail = append(w.tail, p...)
	}
	return len(p), nil
}

func TestSingleMessageStreams(t *testing.T) {
	allocFor := func(nMiB int) (uint64, *countWriter) {
		c := cfg(func(c *config) { c.SingleMiB = nMiB; c.Flags = true })
		w := newCountWriter()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		st, err := generate(w, c)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if st.Messages != 1 || st.Bytes != w.n {
			t.Fatalf("stats %+v, wrote %d bytes", st, w.n)
		}
		return after.TotalAlloc - before.TotalAlloc, w
	}
	small, w4 := allocFor(4)
	big, w32 := allocFor(32)
	for _, tc := range []struct {
		mib int
		w   *countWriter
	}{{4, w4}, {32, w32}} {
		lo := int64(tc.mib) * mib
		if tc.w.n < lo || tc.w.n > lo+8192 {
			t.Errorf("--single-mib %d wrote %d bytes, want %d to %d", tc.mib, tc.w.n, lo, lo+8192)
		}
		head := string(tc.w.head)
		if !fromLineRE.MatchString(head[:strings.IndexByte(head, '\n')]) || !strings.Contains(head, "\nX-IMAPbase: ") {
			t.Errorf("--single-mib %d: bad start %q", tc.mib, head[:200])
		}
		if !strings.HasSuffix(string(tc.w.tail), "--\n\n") {
			t.Errorf("--single-mib %d: bad end %q", tc.mib, tc.w.tail[len(tc.w.tail)-100:])
		}
		if n := strings.Count(head, "\nFrom ") + strings.Count(string(tc.w.tail), "\nFrom "); n != 0 {
			t.Errorf("--single-mib %d: more than one message", tc.mib)
		}
	}
	// memory does not grow with the body: 8 times the body, (almost) the same allocations
	const bound = 4 << 20
	if small > bound || big > bound || big > small+256<<10 {
		t.Errorf("allocated %d bytes for 4 MiB and %d for 32 MiB, want both below %d and about equal", small, big, bound)
	}

	// the body of a small one parses and its attachment decodes
	data := genBytes(t, cfg(func(c *config) { c.SingleMiB = 1 }))
	msgs := split(t, data)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	bodyLen := len(strings.Join(msgs[0].body, "\n")) // the separator newline is not counted
	if bodyLen < mib {
		t.Errorf("body of %d bytes, want at least 1 MiB", bodyLen)
	}
	if got := len(attachment(t, msgs[0].body)); got < mib*57/77-1024 {
		t.Errorf("attachment of %d bytes, too small", got)
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"--escape", "mboxcl"},
		{"-n", "-1"},
		{"--attach-ratio", "2"},
		{"--single-mib", "-3"},
		{"stray"},
		{"--no-such-flag"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if stdout.Len() != 0 {
			t.Errorf("%v: wrote %d bytes of output", args, stdout.Len())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-n", "1", "-o", filepath.Join(t.TempDir(), "no", "such", "dir")}, &stdout, &stderr); code != 1 {
		t.Errorf("unwritable output: exit %d, want 1", code)
	}
}

func TestStdout(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-n", "3", "--size-mb", "0.01"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := fmt.Sprintf("genmbox: 3 messages, %d bytes", stdout.Len())
	if !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("stderr %q, want prefix %q", stderr.String(), want)
	}
	sc := bufio.NewScanner(&stdout)
	n := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "From ") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d From_ lines on stdout, want 3", n)
	}
}
