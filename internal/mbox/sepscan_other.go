//go:build !amd64 || purego

package mbox

func indexNLF(b []byte) int { return indexNLFGeneric(b) }
