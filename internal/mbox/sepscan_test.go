package mbox

import (
	"bytes"
	"math/rand"
	"testing"
)

// naiveNLF is the definition of indexNLF.
func naiveNLF(b []byte) int {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\n' && b[i+1] == 'F' {
			return i
		}
	}
	return -1
}

func checkSep(t *testing.T, b []byte) {
	t.Helper()
	want := naiveNLF(b)
	if got := indexNLF(b); got != want {
		t.Fatalf("indexNLF(%q) = %d, want %d", b, got, want)
	}
	if got := indexNLFGeneric(b); got != want {
		t.Fatalf("indexNLFGeneric(%q) = %d, want %d", b, got, want)
	}
	if got, want := indexSep(b), bytes.Index(b, fromSep); got != want {
		t.Fatalf("indexSep(%q) = %d, want %d", b, got, want)
	}
}

// indexNLF (SSE2 on amd64) and its Go version agree with the definition on every length
// around the 16- and 32-byte blocks, at every alignment, with the pair anywhere (also split
// across two blocks, and at the very end).
func TestIndexSep(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := []byte("\nFrom x\n")
	buf := make([]byte, 300)
	for n := 0; n < 100000; n++ {
		off := rng.Intn(16)
		l := rng.Intn(len(buf) - off)
		b := buf[off : off+l]
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		checkSep(t, b)
	}
	// one pair, at each position, in a block of other bytes
	for l := 0; l <= 100; l++ {
		for p := 0; p+1 < l; p++ {
			b := bytes.Repeat([]byte("x"), l)
			b[p], b[p+1] = '\n', 'F'
			checkSep(t, b)
			if p+6 <= l {
				copy(b[p:], "\nFrom ")
				checkSep(t, b)
			}
		}
	}
	for _, s := range []string{"", "\n", "F", "\nF", "F\n", "\nFrom", "\nFrom ", "x\nFrom x", "\nFrom\nFrom "} {
		checkSep(t, []byte(s))
	}
}

func FuzzIndexSep(f *testing.F) {
	for _, s := range []string{"", "\nF", "text\nFrom x\n", "aaaaaaaaaaaaaaaa\nFrom bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkSep(t, b) })
}

func BenchmarkIndexSep(b *testing.B) {
	text := bytes.Repeat([]byte("For all we know, a line of body text; From time to time\nFrom: header-like\nand more text here.\n"), 1<<14)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		n := 0
		for i := 0; ; {
			j := indexSep(text[i:])
			if j < 0 {
				break
			}
			n++
			i += j + 1
		}
		if n != 0 {
			b.Fatalf("%d separators", n)
		}
	}
}
