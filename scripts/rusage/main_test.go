package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var figures = regexp.MustCompile(`^\d+\.\d{3} \d+\.\d{3} \d+\.\d{3} \d+\n$`)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		want int
		line bool // the figures are written
	}{
		{"success", []string{"sh", "-c", "echo out; echo err >&2"}, 0, true},
		{"exit status", []string{"sh", "-c", "exit 3"}, 3, true},
		{"signal", []string{"sh", "-c", "kill -TERM $$"}, 128 + 15, true},
		{"no such command", []string{filepath.Join(dir, "none")}, 127, false},
		{"no command", nil, 2, false},
		{"bad flag", []string{"-x", "true"}, 2, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
			var stdout, stderr bytes.Buffer
			got := run(append([]string{"-o", out}, c.args...), strings.NewReader(""), &stdout, &stderr)
			if got != c.want {
				t.Errorf("status %d, want %d (stderr %q)", got, c.want, stderr.String())
			}
			data, err := os.ReadFile(out)
			if c.line != (err == nil) || c.line && !figures.Match(data) {
				t.Errorf("figures %q (%v), want a line %v", data, err, c.line)
			}
			if c.name == "success" && (stdout.String() != "out\n" || !strings.Contains(stderr.String(), "err\n")) {
				t.Errorf("the command's output was not passed on: stdout %q stderr %q", stdout.String(), stderr.String())
			}
			if !c.line && c.want != 0 && stderr.Len() == 0 {
				t.Error("no message on stderr")
			}
		})
	}
	// without -o the figures go to stderr
	var stderr bytes.Buffer
	if got := run([]string{"true"}, nil, &bytes.Buffer{}, &stderr); got != 0 || !figures.Match(stderr.Bytes()) {
		t.Errorf("without -o: status %d, stderr %q", got, stderr.String())
	}
	// an -o file that cannot be written
	if got := run([]string{"-o", filepath.Join(dir, "no", "such", "dir"), "true"}, nil, &bytes.Buffer{}, &stderr); got != 127 {
		t.Errorf("unwritable -o: status %d, want 127", got)
	}
}
