package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mb2md/mb2md/internal/convert"
)

func sample() []*convert.Result {
	return []*convert.Result{
		{Source: "/s/inbox", Folder: "INBOX", Dest: "/d", Format: "auto", Messages: 3, Written: 2, SkippedExisting: 1,
			Bytes: 2048, New: 1, Cur: 1, Flags: map[string]int{"S": 1}, DateSources: map[string]int{"from_line": 2, "received": 1},
			Warnings: []convert.Warning{{Line: 12, Message: "From_ line date unusable"}}},
		{Source: "/s/bad", Folder: "bad", Error: "open /s/bad: permission denied"},
	}
}

func TestJSONShape(t *testing.T) {
	rs := sample()
	d := &Document{Mode: "default", Dest: "/d", Mailboxes: rs, Totals: Sum(rs)}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, d); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"mode", "dry_run", "mailboxes", "totals", "skipped"} {
		if _, ok := got[k]; !ok {
			t.Errorf("missing top-level %q", k)
		}
	}
	mb := got["mailboxes"].([]any)[0].(map[string]any)
	for _, k := range []string{"source", "folder", "dest", "format", "messages", "written", "skipped_existing", "bytes", "date_sources", "warnings"} {
		if _, ok := mb[k]; !ok {
			t.Errorf("missing mailbox field %q", k)
		}
	}
	if w := mb["warnings"].([]any)[0].(map[string]any); w["line"].(float64) != 12 {
		t.Errorf("warning line = %v", w["line"])
	}
	tot := got["totals"].(map[string]any)
	want := map[string]float64{"mailboxes": 2, "messages": 3, "written": 2, "skipped_existing": 1, "warnings": 1, "errors": 1}
	for k, v := range want {
		if tot[k].(float64) != v {
			t.Errorf("totals.%s = %v, want %v", k, tot[k], v)
		}
	}
	// a mailbox without warnings still has an empty list, never null
	if !strings.Contains(buf.String(), `"warnings": []`) {
		t.Errorf("empty warnings should be [] in:\n%s", buf.String())
	}
}

func TestText(t *testing.T) {
	var buf bytes.Buffer
	tx := &Text{W: &buf}
	for _, r := range sample() {
		tx.MailboxDone(r)
	}
	rs := sample()
	tx.Summary(&Document{Dest: "/d", Mailboxes: rs, Totals: Sum(rs), Skipped: []Skip{{Path: "/s/fifo", Reason: "not a regular file (a FIFO)"}}})
	out := buf.String()
	for _, s := range []string{
		"/s/inbox -> INBOX: 3 messages, 2 written, 1 already there, 2.0 KiB (new 1, cur 1), flags S=1",
		"dates: from_line=2 received=1",
		"mb2md: warning: /s/inbox:12: From_ line date unusable",
		"mb2md: error: open /s/bad: permission denied",
		"mb2md: skipped /s/fifo: not a regular file (a FIFO)",
		"mb2md: converted 2 mailboxes into /d: 3 messages, 2 written, 1 already there, 1 warnings, 1 errors",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("text report lacks %q:\n%s", s, out)
		}
	}
	buf.Reset()
	q := &Text{W: &buf, Quiet: true}
	for _, r := range sample() {
		q.MailboxDone(r)
	}
	if strings.Contains(buf.String(), "INBOX") || !strings.Contains(buf.String(), "permission denied") {
		t.Errorf("quiet output: %q", buf.String())
	}
}
