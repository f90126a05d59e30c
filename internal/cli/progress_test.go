package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mb2md/mb2md/internal/convert"
	"github.com/mb2md/mb2md/internal/site"
)

// The terminal status line shows running per-user counts, totals and an ETA, and prints
// finished users' lines above itself.
func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, total: 3, start: time.Now().Add(-time.Minute)}
	p.update("alice", 10, 2048)
	if s := buf.String(); !strings.Contains(s, "0/3 users, 10 messages, 2.0 KiB; now alice 10 (2.0 KiB); ETA ?") {
		t.Errorf("live line: %q", s)
	}
	buf.Reset()
	p.add(&site.UserResult{Name: "alice", Messages: 12, Written: 12, Mailboxes: []*convert.Result{{Bytes: 4096}}},
		func() { buf.WriteString("alice: ok\n") })
	s := buf.String()
	if !strings.Contains(s, "alice: ok\nmb2md: 1/3 users, 12 messages, 4.0 KiB; ETA 2m") || strings.Contains(s, "now alice") {
		t.Errorf("after alice finished: %q", s)
	}
	var nilP *progress
	called := false
	nilP.add(&site.UserResult{}, func() { called = true }) // not a terminal: only the result line
	nilP.update("x", 1, 1)
	if !called {
		t.Error("result line not printed without a terminal")
	}
}
