package cli

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdMtime: mtime GLOB EPOCH — every file matching GLOB has that mtime.
func cmdMtime(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mtime GLOB EPOCH")
	}
	want, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	files := glob(ts, args[0])
	for _, f := range files {
		st, err := os.Stat(f)
		ts.Check(err)
		got := st.ModTime().Unix()
		if (got == want) == neg {
			ts.Fatalf("%s: mtime %d, want %s%d", f, got, map[bool]string{true: "not ", false: ""}[neg], want)
		}
	}
}

// cmdCount: count N GLOB — exactly N files match GLOB.
func cmdCount(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: count N GLOB")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	m, err := filepath.Glob(ts.MkAbs(args[1]))
	ts.Check(err)
	if (len(m) == want) == neg {
		ts.Fatalf("%s: %d matches, want %d: %v", args[1], len(m), want, m)
	}
}

// cmdMode: mode PERM GLOB — every match has that permission (octal).
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode PERM GLOB")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	for _, f := range glob(ts, args[1]) {
		st, err := os.Stat(f)
		ts.Check(err)
		if got := uint64(st.Mode().Perm()); (got == want) == neg {
			ts.Fatalf("%s: mode %o, want %o", f, got, want)
		}
	}
}

func glob(ts *testscript.TestScript, pattern string) []string {
	m, err := filepath.Glob(ts.MkAbs(pattern))
	ts.Check(err)
	if len(m) == 0 {
		ts.Fatalf("no file matches %s", pattern)
	}
	return m
}
