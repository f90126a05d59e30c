package convert

import (
	"fmt"
	"time"

	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/mbox"
)

// Spec is a conversion's options as text, the way the command line gives them (and the way
// `mb2md users` hands them to each per-user child, as JSON). Options checks and turns them
// into Options; it is the one place those values are parsed.
type Spec struct {
	Format        string `json:"format"` // auto, mboxo, mboxrd, mboxcl, mboxcl2 ("" = auto)
	ContentLength bool   `json:"content_length"`
	TZ            string `json:"tz"`     // IANA zone for From_ dates without one ("" = local)
	Sync          string `json:"sync"`   // batch, each, none ("" = batch)
	Layout        string `json:"layout"` // maildir++ or fs ("" = maildir++)
	UTF8          bool   `json:"utf8"`
	Compat        bool   `json:"compat"`
	Jobs          int    `json:"jobs"` // parallel writers per mailbox (0: number of CPUs)
	Now           int64  `json:"now"`  // "now" for the date policy, Unix ns (0: the time given to Options)
}

// SpecError is a bad option value: a usage error.
type SpecError struct{ Msg string }

func (e *SpecError) Error() string { return e.Msg }

// LayoutFS reports whether the folders are laid out for Dovecot's LAYOUT=fs.
func (s Spec) LayoutFS() bool { return s.Layout == "fs" }

// Options checks the values and returns the conversion options (a *SpecError for a bad value).
func (s Spec) Options(now time.Time) (Options, error) {
	var o Options
	name := s.Format
	if name == "" {
		name = "auto"
	}
	f, err := mbox.ParseFormat(name)
	if err != nil {
		return o, &SpecError{fmt.Sprintf("--format: %v", err)}
	}
	if s.ContentLength && f == mbox.Auto {
		f = mbox.MboxCL
	}
	loc := time.Local
	if s.TZ != "" {
		if loc, err = time.LoadLocation(s.TZ); err != nil {
			return o, &SpecError{fmt.Sprintf("--tz %q: unknown time zone; use an IANA name such as Europe/Berlin or UTC", s.TZ)}
		}
	}
	var sync maildir.SyncMode
	switch s.Sync {
	case "", "batch":
		sync = maildir.SyncBatch
	case "each":
		sync = maildir.SyncEach
	case "none":
		sync = maildir.SyncNone
	default:
		return o, &SpecError{fmt.Sprintf("--sync %q: use batch, each or none", s.Sync)}
	}
	switch s.Layout {
	case "", "maildir++", "fs":
	default:
		return o, &SpecError{fmt.Sprintf("--layout %q: use maildir++ or fs", s.Layout)}
	}
	if s.Jobs < 0 {
		return o, &SpecError{fmt.Sprintf("--jobs %d: give a positive number", s.Jobs)}
	}
	if s.Now != 0 {
		now = time.Unix(0, s.Now)
	}
	return Options{Format: f, Loc: loc, Now: now, Sync: sync, UTF8: s.UTF8, LayoutFS: s.LayoutFS(), Jobs: s.Jobs,
		Compat: s.Compat, ContentLength: s.ContentLength}, nil
}
