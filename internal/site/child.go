package site

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mb2md/mb2md/internal/convert"
	"github.com/mb2md/mb2md/internal/privsep"
	"github.com/mb2md/mb2md/internal/report"
	"github.com/mb2md/mb2md/internal/source"
	"github.com/mb2md/mb2md/internal/spoollock"
	"github.com/mb2md/mb2md/internal/users"
	"github.com/mb2md/mb2md/internal/verify"
)

const handlerName = "site-user"

func init() {
	privsep.Register(handlerName, childMain)
	privsep.RegisterError("locked", spoollock.ErrLocked)
	privsep.RegisterError("interrupted", convert.ErrInterrupted)
}

// ConvOptions are the conversion options of the core command that apply to every user; they
// cross to the child as JSON.
type ConvOptions = convert.Spec

// childJob is what the parent sends to the child.
type childJob struct {
	Home     string      `json:"home"`
	Maildir  string      `json:"maildir"` // relative to Home
	Folders  string      `json:"folders"` // relative to Home, "" for none
	Spool    string      `json:"spool"`   // the spool's path (for reports); "" for none
	HasSpool bool        `json:"has_spool"`
	Conv     ConvOptions `json:"conv"`
	Now      int64       `json:"now"`
	// DryRun converts with convert.DryRunSink (nothing written).
	DryRun bool `json:"dry_run"`
	// Verify verifies the Maildir after converting; VerifyOnly instead of converting.
	Verify     bool `json:"verify"`
	VerifyOnly bool `json:"verify_only"`
	Strict     bool `json:"strict"`
	// Progress asks the child to report its running totals on stderr (see progressMarker).
	Progress bool `json:"progress"`
}

// childResult is what the child sends back. It comes from a process the user controls: the
// parent only sums and prints it.
type childResult struct {
	Mailboxes []*convert.Result `json:"mailboxes"`
	Skipped   []report.Skip     `json:"skipped"`
	Verify    *verify.Report    `json:"verify,omitempty"`
}

type nopObserver struct{}

func (nopObserver) MailboxDone(*convert.Result) {}

// childMain runs as the user: everything it touches is checked by the kernel against the
// user's own rights.
func childMain(ctx context.Context, raw json.RawMessage) (any, error) {
	var job childJob
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&job); err != nil {
		return nil, fmt.Errorf("decode job: %w", err)
	}
	var spool *os.File
	if job.HasSpool {
		if spool = privsep.File(0); spool == nil {
			return nil, errors.New("the locked spool was not passed to the child")
		}
		defer spool.Close()
	}
	uid := os.Getuid()
	if err := users.CheckOwnership(job.Home, uid); err != nil {
		return nil, err
	}
	dest := filepath.Join(job.Home, job.Maildir)
	if err := noLinks(dest, uid); err != nil {
		return nil, err
	}
	opt, err := job.Conv.Options(time.Unix(0, job.Now))
	if err != nil {
		return nil, err
	}
	if job.Progress {
		p := &childProgress{w: os.Stderr}
		opt.Progress = p.add
		defer p.flush()
	}
	plan := &source.Plan{Dest: dest, Single: true}
	if spool != nil {
		plan.Source = job.Spool
		plan.Mailboxes = append(plan.Mailboxes, source.Mailbox{Path: job.Spool, File: spool, Required: true})
	}
	if job.Folders != "" {
		dir := filepath.Join(job.Home, job.Folders)
		st, err := os.Stat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("folders %s: %w", dir, err)
		case !st.IsDir():
			return nil, fmt.Errorf("folders %s is not a directory; check --folders", dir)
		default:
			resolve := source.Resolve
			if job.Conv.Compat {
				resolve = source.ResolveCompat
			}
			fp, err := resolve(source.Config{Source: dir, Dest: dest, Recurse: true, Home: job.Home, Cwd: job.Home,
				LayoutFS: job.Conv.LayoutFS()})
			if err != nil {
				return nil, err
			}
			plan.Single = false
			plan.Source = fp.Source
			plan.Mailboxes = append(plan.Mailboxes, fp.Mailboxes...)
			plan.Skipped = fp.Skipped
			plan.Subscribed = fp.Subscribed
		}
	}
	var out childResult
	if job.VerifyOnly {
		rep, err := verify.Run(ctx, plan, verify.Options{Convert: opt, Strict: job.Strict})
		if err != nil {
			return nil, err
		}
		out.Verify = rep
		return out, nil
	}
	if job.DryRun {
		opt.Sink = convert.DryRunSink{}
	}
	results, err := convert.Run(ctx, plan, opt, nopObserver{})
	if err != nil {
		return nil, err
	}

	out.Mailboxes = results
	for _, s := range plan.Skipped {
		out.Skipped = append(out.Skipped, report.Skip{Path: s.Path, Reason: s.Reason})
	}
	if job.Verify {
		// the same plan, read again from its start: the spool is the locked file we were given
		if spool != nil {
			if _, err := spool.Seek(0, io.SeekStart); err != nil {
				return nil, fmt.Errorf("rewind spool %s for the verification: %w", job.Spool, err)
			}
		}
		opt.Sink = nil
		rep, err := verify.Run(ctx, plan, verify.Options{Convert: opt, Strict: job.Strict})
		if err != nil {
			return nil, err
		}
		out.Verify = rep
	}
	return out, nil
}

// noLinks refuses a Maildir root, or a tmp/new/cur in it, that is a symbolic link or belongs to
// someone else. The kernel would stop a link to somewhere the user cannot write anyway; this
// makes the refusal clear and covers places the user can write but should not get mail in.
func noLinks(dest string, uid int) error {
	for _, p := range []string{dest, filepath.Join(dest, "tmp"), filepath.Join(dest, "new"), filepath.Join(dest, "cur")} {
		err := users.CheckOwnership(p, uid)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("maildir: %w", err)
		}
	}
	return nil
}
