//go:build !purego

package mbox

// indexNLF returns the smallest i with b[i] == '\n' and b[i+1] == 'F', or -1 (SSE2, in
// sepscan_amd64.s; indexNLFGeneric is the same in Go).
//
//go:noescape
func indexNLF(b []byte) int
