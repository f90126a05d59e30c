package mbox

import (
	"io"
	"os"
	"testing"
)

// BenchmarkConvertLike reads the mbox named by MB2MD_BENCH_MBOX (skipped when unset) the way
// the converter does: the converter's strip and capture lists, content read into a 1 MiB
// buffer, the captured fields looked at.
func BenchmarkConvertLike(b *testing.B) {
	in := os.Getenv("MB2MD_BENCH_MBOX")
	if in == "" {
		b.Skip("MB2MD_BENCH_MBOX not set")
	}
	st, err := os.Stat(in)
	if err != nil {
		b.Fatal(err)
	}
	opt := Options{
		IsSeparator: func(line []byte) bool { return len(line) > 30 }, // cheap: the reader is measured
		Strip:       []string{"Status", "X-Status", "X-Keywords", "X-UID", "X-IMAP", "X-IMAPbase", "Content-Length"},
		Capture: []string{"Status", "X-Status", "X-Keywords", "X-UID", "X-IMAP", "X-IMAPbase",
			"X-Mozilla-Status", "X-Evolution", "Received", "Date"},
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(st.Size())
	for b.Loop() {
		f, err := os.Open(in)
		if err != nil {
			b.Fatal(err)
		}
		r := NewReader(f, opt)
		msgs, fields := 0, 0
		for {
			m, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			for {
				_, err := m.Read(buf)
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			msgs++
			fields += len(m.Fields)
		}
		f.Close()
		if msgs == 0 || fields == 0 {
			b.Fatalf("%d messages, %d fields", msgs, fields)
		}
	}
}
