package mbox

import "bytes"

// indexSep returns the index of the first "\nFrom " in b, or -1. It looks for the pair "\nF",
// 16 bytes at a time on amd64 (indexNLF), and checks the rest of "From " at each; a line
// that starts with 'F' is rarer than an 'F'. The Go version looks for "From " and checks the
// byte before it.
func indexSep(b []byte) int {
	for i := 0; ; {
		j := indexNLF(b[i:])
		if j < 0 {
			return -1
		}
		j += i
		if len(b)-j < len(fromSep) {
			return -1
		}
		if b[j+2] == 'r' && b[j+3] == 'o' && b[j+4] == 'm' && b[j+5] == ' ' {
			return j
		}
		i = j + 1
	}
}

// indexNLFGeneric is indexNLF in Go: the smallest i with b[i] == '\n' and b[i+1] == 'F',
// or -1. It hops from 'F' to 'F' with bytes.IndexByte.
func indexNLFGeneric(b []byte) int {
	for i := 1; i < len(b); {
		j := bytes.IndexByte(b[i:], 'F')
		if j < 0 {
			return -1
		}
		j += i
		if b[j-1] == '\n' {
			return j - 1
		}
		i = j + 1
	}
	return -1
}
