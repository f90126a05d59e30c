// Package report turns conversion results into what people and scripts read: a text summary
// on stderr and one JSON document on stdout.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mb2md/mb2md/internal/convert"
)

// Totals sums the results.
type Totals struct {
	Mailboxes       int `json:"mailboxes"`
	Messages        int `json:"messages"`
	Written         int `json:"written"`
	SkippedExisting int `json:"skipped_existing"`
	Warnings        int `json:"warnings"`
	Errors          int `json:"errors"`
}

// Skip is a source entry that was not converted.
type Skip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Document is the JSON report.
type Document struct {
	Mode      string            `json:"mode"`
	DryRun    bool              `json:"dry_run"`
	Dest      string            `json:"dest"`
	Mailboxes []*convert.Result `json:"mailboxes"`
	Skipped   []Skip            `json:"skipped"`
	Totals    Totals            `json:"totals"`
}

// Sum computes the totals of a set of results.
func Sum(rs []*convert.Result) Totals {
	var t Totals
	for _, r := range rs {
		t.Mailboxes++
		t.Messages += r.Messages
		t.Written += r.Written
		t.SkippedExisting += r.SkippedExisting
		t.Warnings += len(r.Warnings)
		if r.Error != "" {
			t.Errors++
		}
	}
	return t
}

// WriteJSON writes the document, indented, with a final newline.
func WriteJSON(w io.Writer, d *Document) error {
	for _, r := range d.Mailboxes {
		if r.Warnings == nil {
			r.Warnings = []convert.Warning{}
		}
	}
	if d.Skipped == nil {
		d.Skipped = []Skip{}
	}
	if d.Mailboxes == nil {
		d.Mailboxes = []*convert.Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// Text prints a line per mailbox as it finishes, and the summary at the end.
type Text struct {
	W      io.Writer
	Quiet  bool // only errors and the final summary line
	DryRun bool // say "would write" instead of "written"
}

// MailboxDone implements convert.Observer.
func (t *Text) MailboxDone(r *convert.Result) {
	if r.Error != "" {
		fmt.Fprintf(t.W, "mb2md: error: %s\n", r.Error)
		if t.Quiet {
			return
		}
	}
	if t.Quiet {
		return
	}
	if r.Error == "" && !r.NotMbox {
		written := "written"
		if t.DryRun {
			written = "would be written"
		}
		fmt.Fprintf(t.W, "%s -> %s: %d messages, %d %s, %d already there, %s%s%s\n",
			display(r.Source), r.Folder, r.Messages, r.Written, written, r.SkippedExisting, HumanBytes(r.Bytes),
			newCur(r), flagsText(r.Flags))
		if r.SkippedDeleted > 0 {
			fmt.Fprintf(t.W, "  %d deleted by the user since an earlier run: not restored\n", r.SkippedDeleted)
		}
		if ds := dates(r.DateSources); ds != "" {
			fmt.Fprintf(t.W, "  dates: %s\n", ds)
		}
	}
	for _, w := range r.Warnings {
		if w.Line == 0 {
			fmt.Fprintf(t.W, "mb2md: warning: %s\n", w.Message)
			continue
		}
		fmt.Fprintf(t.W, "mb2md: warning: %s:%d: %s\n", r.Source, w.Line, w.Message)
	}
}

// Summary prints skipped entries and the totals.
func (t *Text) Summary(d *Document) {
	if !t.Quiet {
		for _, s := range d.Skipped {
			fmt.Fprintf(t.W, "mb2md: skipped %s: %s\n", s.Path, s.Reason)
		}
	}
	tt := d.Totals
	verb := "converted"
	if d.DryRun {
		verb = "would convert"
	}
	fmt.Fprintf(t.W, "mb2md: %s %d mailboxes into %s: %d messages, %d written, %d already there, %d warnings, %d errors\n",
		verb, tt.Mailboxes, d.Dest, tt.Messages, tt.Written, tt.SkippedExisting, tt.Warnings, tt.Errors)
}

func display(s string) string {
	if s == "" {
		return "(directory)"
	}
	return s
}

// HumanBytes formats a byte count for people (KiB, MiB, GiB).
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func newCur(r *convert.Result) string {
	if r.Written == 0 {
		return ""
	}
	return fmt.Sprintf(" (new %d, cur %d)", r.New, r.Cur)
}

func flagsText(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	return ", flags " + kv(m)
}

func dates(m map[string]int) string { return kv(m) }

func kv(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
