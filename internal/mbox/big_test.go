package mbox

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"
)

// drain reads every message and returns the sizes; it uses one buffer.
func drain(t testing.TB, rd io.Reader, opt Options) ([]int64, []*Message) {
	t.Helper()
	r := NewReader(rd, opt)
	buf := make([]byte, 32<<10)
	var sizes []int64
	var msgs []*Message
	for {
		m, err := r.Next()
		if err == io.EOF {
			return sizes, msgs
		}
		if err != nil {
			t.Fatal(err)
		}
		for {
			_, err := m.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		sizes = append(sizes, m.Size)
		msgs = append(msgs, m)
	}
}

func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestHugeMessage(t *testing.T) {
	size := int64(1 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	head := []byte(fa + "\r\nSubject: big\r\n\r\n")
	tail := []byte("\r\nend\r\n\r\n" + fb + "\r\n\r\nlast\r\n")
	fill := []byte("a line of body text that is not a From_ line, From here\r\n")
	var sizes []int64
	var msgs []*Message
	alloc := allocated(func() {
		sizes, msgs = drain(t, &patternReader{head: head, fill: fill, tail: tail, size: size}, Options{IsSeparator: asctimeSep, Capture: []string{"Subject"}})
	})
	if len(sizes) != 2 {
		t.Fatalf("%d messages", len(sizes))
	}
	bodyRaw := size - int64(len(head)) - int64(len(tail))
	lines := bodyRaw / int64(len(fill))
	want := int64(len("Subject: big\n\n")) + bodyRaw - lines + int64(len("\nend\n"))
	if sizes[0] != want || sizes[1] != int64(len("\nlast")) {
		t.Errorf("sizes %v, want %d", sizes, want)
	}
	if msgs[1].Offset != size-int64(len(tail))+int64(len("\r\nend\r\n\r\n")) {
		t.Errorf("offset of message 2: %d", msgs[1].Offset)
	}
	wantLine := 3 + lines + 3
	if bodyRaw%int64(len(fill)) != 0 {
		wantLine++ // the cut last fill line ends with the tail's "\r\n"
	}
	if msgs[1].Line != wantLine {
		t.Errorf("line of message 2: %d, want %d", msgs[1].Line, wantLine)
	}
	if alloc > 2<<20 {
		t.Errorf("allocated %d bytes", alloc)
	}
}

func TestHugeLines(t *testing.T) {
	size := int64(100 << 20)
	if testing.Short() {
		size = 16 << 20
	}
	// a 100 MiB header line (captured and stripped), then a 100 MiB From_ line
	head := []byte("From a\nX-Big: ")
	tail := []byte("\nSubject: s\n\nbody\n\n")
	var msgs []*Message
	alloc := allocated(func() {
		_, msgs = drain(t, io.MultiReader(
			&patternReader{head: head, fill: []byte("xyz "), tail: tail, size: size},
			&patternReader{head: []byte("From "), fill: []byte("b"), tail: []byte("\n\nend\n"), size: size},
		), Options{Strip: []string{"X-Big"}, Capture: []string{"X-Big", "Subject"}, Format: MboxO})
	})
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.Size != int64(len("Subject: s\n\nbody\n")) || len(m.Fields) != 2 || !m.Fields[0].Truncated || len(m.Fields[0].Value) != MaxFieldLen || m.Fields[1].Value != "s" {
		t.Errorf("message 1: size %d fields %d", m.Size, len(m.Fields))
	}
	m = msgs[1]
	if !m.FromTruncated || len(m.FromLine) != MaxFromLine || m.Size != int64(len("\nend")) || m.Offset != size {
		t.Errorf("message 2: truncated %v len %d size %d offset %d", m.FromTruncated, len(m.FromLine), m.Size, m.Offset)
	}
	if alloc > 2<<20 {
		t.Errorf("allocated %d bytes", alloc)
	}
}

// genList builds a mailing-list style mbox of n messages of about 4 KB.
func genList(n int) []byte {
	var b bytes.Buffer
	para := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n", 45)
	for i := range n {
		b.WriteString(fa + "\n")
		b.WriteString("Received: from mx.example.com by mail.example.org; Mon, 1 Jan 2001 00:00:00 +0000\n")
		b.WriteString("Received: from client by mx.example.com; Mon, 1 Jan 2001 00:00:00 +0000\n")
		b.WriteString("From: Someone <someone@example.com>\nTo: list@example.org\nSubject: message " + itoa(i) + "\n")
		b.WriteString("Date: Mon, 1 Jan 2001 00:00:00 +0000\nMessage-ID: <" + itoa(i) + "@example.com>\n")
		b.WriteString("Status: RO\nX-Status: A\nContent-Length: " + itoa(len(para)) + "\n\n")
		b.WriteString(para)
		b.WriteString("\n")
	}
	return b.Bytes()
}

func BenchmarkLargeBody(b *testing.B) {
	size := int64(256 << 20)
	head := []byte(fa + "\nSubject: big\n\n")
	fill := []byte(strings.Repeat("a line of body text that is not a separator, it is just text.\n", 16))
	b.SetBytes(size)
	for b.Loop() {
		drain(b, &patternReader{head: head, fill: fill, size: size}, Options{IsSeparator: asctimeSep})
	}
}

func benchList(b *testing.B, opt Options) {
	data := genList(20000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		sizes, _ := drain(b, bytes.NewReader(data), opt)
		if len(sizes) != 20000 {
			b.Fatalf("%d messages", len(sizes))
		}
	}
}

func BenchmarkMailingList(b *testing.B) {
	benchList(b, Options{IsSeparator: asctimeSep, Strip: dovecotStrip,
		Capture: []string{"Received", "Date", "Message-ID", "Status", "X-Status", "X-Keywords", "X-UID", "X-IMAPbase"}})
}

func BenchmarkMailingListPlain(b *testing.B) { benchList(b, Options{}) }

func BenchmarkMailingListMboxRD(b *testing.B) { benchList(b, Options{Format: MboxRD}) }
