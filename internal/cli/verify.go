package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/mb2md/mb2md/internal/convert"
	"github.com/mb2md/mb2md/internal/report"
	"github.com/mb2md/mb2md/internal/source"
	"github.com/mb2md/mb2md/internal/verify"
)

type verifyOpts struct {
	convOpts
	strict bool
}

func verifyCommand(ctx context.Context, env Env) *cobra.Command {
	var o verifyOpts
	cmd := &cobra.Command{
		Use:   "verify [-m | -s FILE|DIR] [-d DIR] [-R | -f DIR] [-l FILE] [-r EXT] [-c] [--strict] [--json]",
		Short: "prove that a Maildir holds every message of its source",
		Long: `verify reads the source again exactly as a conversion with the same options does, and
reconciles it with the Maildir: every source message must be there exactly once, with the
same bytes, flags and mtime (INTERNALDATE). It lists what is missing, duplicated, changed or
extra, with the folder, the source position (file:line of the From_ line) and the Maildir
file. Give the same source options as for the conversion. Nothing is written.

A Maildir in use is fine: messages the user deleted, flags the user changed and mail
delivered since are reported as such, and count as differences only with --strict.

EXIT STATUS
  0    the Maildir holds every source message exactly once, unchanged
  1    a source or the Maildir could not be read (verification incomplete)
  2    usage error
  3    differences found`,
		Example: `  mb2md verify -s /var/spool/mail/alice -d /home/alice/Maildir
  mb2md verify -s mail -R -d Maildir --strict --json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("verify takes no arguments, got %q; give the source with -m or -s", args)}
			}
			return nil
		},
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.help {
				return cmd.Help()
			}
			plan, copt, err := prepare(env, &o.convOpts)
			if err != nil {
				return err
			}
			if o.spool {
				// read the spool as the conversion did: under the MTA's lock (fcntl only,
				// verify writes nothing)
				unlock, err := lockSpool(ctx, env, plan, true, o.lockTimeout)
				if err != nil {
					return err
				}
				defer unlock()
			}
			rep, err := verify.Run(ctx, plan, verify.Options{Convert: copt, Strict: o.strict})
			if err != nil {
				return err
			}
			return finishVerify(env, rep, o.quiet, func() error {
				if o.json {
					return writeJSON(env, rep)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.BoolVarP(&o.spool, "spool", "m", false, "verify your spool file against the destination root (INBOX)")
	f.StringVarP(&o.src, "source", "s", "", "source mbox FILE or DIR of mbox folders, as given to the conversion")
	f.StringVarP(&o.dest, "dest", "d", "Maildir", "the Maildir root to verify")
	f.BoolVarP(&o.recurse, "recursive", "R", false, "with -s DIR: also subdirectories")
	f.StringVarP(&o.sub, "folder", "f", "", "with -s DIR: only the subtree DIR")
	f.StringVarP(&o.list, "list", "l", "", "only the mailboxes listed in FILE (UW-IMAP .mailboxlist)")
	f.StringVarP(&o.strip, "strip-ext", "r", "", "the extension EXT removed from folder names")
	f.BoolVarP(&o.contentLength, "content-length", "c", false, "trust Content-Length headers (same as --format mboxcl)")
	f.StringVar(&o.format, "format", "auto", "mbox flavour: auto, mboxo, mboxrd, mboxcl, mboxcl2")
	f.StringVar(&o.tz, "tz", "", "time zone for From_ dates without one, as given to the conversion")
	f.BoolVar(&o.compat, "compat", false, "the Maildir was converted with --compat")
	f.StringVar(&o.layout, "layout", "maildir++", "folder layout the conversion used: maildir++ or fs")
	f.BoolVar(&o.utf8, "utf8", false, "folder names are in UTF-8 (converted with --utf8)")
	f.IntVar(&o.jobs, "jobs", 0, "parallel readers (default: number of CPUs)")
	f.BoolVar(&o.strict, "strict", false, "also count deleted messages (as missing), changed flags and files not written by mb2md")
	f.DurationVar(&o.lockTimeout, "lock-timeout", time.Minute, "with -m: how long to wait for the MTA's spool lock before giving up with exit 75")
	f.BoolVar(&o.json, "json", false, "print the report as one JSON document on stdout")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print only differences, errors and the summary line")
	f.BoolVarP(&o.help, "help", "h", false, "show this help")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	cmd.AddCommand(verifyUsersCommand(ctx, env))
	return cmd
}

func verifyUsersCommand(ctx context.Context, env Env) *cobra.Command {
	o := usersOpts{verifyOnly: true}
	cmd := &cobra.Command{
		Use:   "users [USER…] [--all] [users options] [--strict] [--json]",
		Short: "prove, for many users, that each Maildir holds every message of the user's spool and folders",
		Long: `mb2md verify users verifies, for each user selected as 'mb2md users' selects them, the
Maildir ~/<--maildir> against the spool <--spool>/<user> and, with --folders DIR, the mbox
folders in ~/DIR: the same plan 'mb2md users' converts, read again the same way, with the same
checks as 'mb2md verify'. Give the options the conversion was run with. Nothing is written.

As in the conversion, each spool is locked (dotlock plus fcntl) while it is read, and
everything in a home is read by a child process running as that user. Each user's findings are
printed with the user's name; the last line sums them up.

EXIT STATUS
  0    every selected user's Maildir holds every source message exactly once, unchanged
  1    a user failed (refused, unreadable source or Maildir: verification incomplete)
  2    usage error
  3    differences found for at least one user
  75   a spool was locked (run again later)`,
		Example: `  mb2md verify users --all --folders mail
  mb2md verify users alice bob --strict --json`,
		Args:          cobra.ArbitraryArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUsers(ctx, env, args, &o)
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	addUsersFlags(f, &o)
	f.BoolVar(&o.strict, "strict", false, "also count deleted messages (as missing), changed flags and files not written by mb2md")
	f.BoolVar(&o.json, "json", false, "print the report as one JSON document on stdout")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print only users that did not verify clean, differences and the summary")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	return cmd
}

// prepare turns the source and conversion options into a plan and conversion options; the
// conversion and the verification use it alike, so both read the source the same way.
func prepare(env Env, o *convOpts) (*source.Plan, convert.Options, error) {
	spec := convert.Spec{Format: o.format, ContentLength: o.contentLength, TZ: o.tz, Sync: o.sync,
		Layout: o.layout, UTF8: o.utf8, Compat: o.compat, Jobs: o.jobs}
	copt, err := spec.Options(env.Now())
	if err != nil {
		return nil, copt, usageError{err}
	}
	scfg := sourceConfig(env)
	scfg.Spool, scfg.Source, scfg.Dest = o.spool, o.src, o.dest
	scfg.Recurse, scfg.SubDir, scfg.ListFile, scfg.StripExt = o.recurse, o.sub, o.list, o.strip
	scfg.LayoutFS = spec.LayoutFS()
	if o.spool {
		scfg.Source = "" // -m wins, as in mb2md 3.20
	}
	resolve := source.Resolve
	if o.compat {
		resolve = source.ResolveCompat
	}
	plan, err := resolve(scfg)
	if err != nil {
		return nil, copt, err
	}
	return plan, copt, nil
}

// finishVerify prints the text report on stderr, runs output (the JSON), and maps the result
// to the exit status.
func finishVerify(env Env, rep *verify.Report, quiet bool, output func() error) error {
	text := verify.Text(rep)
	if quiet {
		text = quietText(rep)
	}
	fmt.Fprint(env.Stderr, text)
	if err := output(); err != nil {
		return err
	}
	switch {
	case rep.SourceErrors > 0:
		return exitErr{ExitFailure}
	case rep.Differences > 0:
		return exitErr{ExitDiffers}
	}
	return nil
}

// quietText keeps the differences, errors and the summary line.
func quietText(rep *verify.Report) string {
	cp := *rep
	cp.Folders = nil
	for _, f := range rep.Folders {
		g := *f
		g.Problems = nil
		for _, p := range f.Problems {
			if p.Difference || p.Kind == verify.SourceError {
				g.Problems = append(g.Problems, p)
			}
		}
		cp.Folders = append(cp.Folders, &g)
	}
	return verify.Text(&cp)
}

func writeJSON(env Env, v any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// convertedAndVerified is the JSON document of a conversion run with --verify: the conversion
// report with the verification added as "verify".
type convertedAndVerified struct {
	*report.Document
	Verify *verify.Report `json:"verify"`
}

// verifyAfter runs the verification of --verify right after a conversion and returns the exit
// status error: a failed conversion (1) wins over differences (3).
func verifyAfter(ctx context.Context, env Env, plan *source.Plan, copt convert.Options, o *convOpts, doc *report.Document) error {
	copt.Sink = nil
	rep, err := verify.Run(ctx, plan, verify.Options{Convert: copt})
	if err != nil {
		return err
	}
	verr := finishVerify(env, rep, o.quiet, func() error {
		if !o.json {
			return nil
		}
		if err := report.WriteJSON(io.Discard, doc); err != nil { // fills in the empty lists
			return fmt.Errorf("write JSON report: %w", err)
		}
		return writeJSON(env, convertedAndVerified{Document: doc, Verify: rep})
	})
	if doc.Totals.Errors > 0 {
		var ec exitErr
		if verr == nil || errors.As(verr, &ec) {
			return exitErr{ExitFailure}
		}
	}
	return verr
}

// dryRunNotes prints what a dry run adds to the report: that nothing was written, and whether
// the destination file system has room for what a conversion would write.
func dryRunNotes(env Env, dest string, results []*convert.Result) {
	var bytes int64
	for _, r := range results {
		bytes += r.Bytes
	}
	if w := spaceWarning(dest, bytes); w != "" {
		fmt.Fprintf(env.Stderr, "mb2md: warning: %s\n", w)
	}
	fmt.Fprintln(env.Stderr, dryRunDone)
}

// dryRunDone ends the report of a dry run (single mailboxes or users mode).
const dryRunDone = "mb2md: dry run: nothing was written; the counts above are what a conversion would do now"

// spaceWarning says when the file system of dest (or of its nearest existing parent) has less
// room than writing bytes of messages takes; "" when it has enough or cannot be asked.
func spaceWarning(dest string, bytes int64) string {
	dir := filepath.Clean(dest)
	for {
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err == nil {
			free := int64(st.Bavail) * int64(st.Bsize)
			// each message also takes a directory entry and a partly used block; count 4 KiB more
			// per 64 KiB as a margin
			need := bytes + bytes/16
			if need > free {
				return fmt.Sprintf("%s has %d bytes free, the conversion would write about %d: free space first", dir, free, need)
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
