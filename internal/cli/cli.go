// Package cli is the command line: it is the only package that knows cobra/pflag. It turns
// flags into plain configuration structs, runs the work and maps errors to exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mb2md/mb2md/internal/convert"
	"github.com/mb2md/mb2md/internal/report"
	"github.com/mb2md/mb2md/internal/source"
)

// Exit codes, documented in --help.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitDiffers     = 3
	ExitTemporary   = 75
	ExitInterrupted = 130
)

// Version is set at build time with -ldflags "-X github.com/mb2md/mb2md/internal/cli.Version=…".
var Version = "0.1.0-dev"

// Env is the process environment, injected so tests can run the CLI in-process.
type Env struct {
	Args   []string // without the program name
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) (string, bool)
	Cwd    string
	Now    func() time.Time
}

// OSEnv returns the real environment.
func OSEnv() Env {
	cwd, _ := os.Getwd()
	return Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.LookupEnv, Cwd: cwd, Now: time.Now}
}

type usageError struct{ error }

const exitHelp = `
EXIT STATUS
  0    success (also when some sources were skipped as not being mbox files: see the report)
  1    at least one mailbox failed; the others were converted
  2    usage error (unknown option, bad value, nothing to convert)
  3    verification found differences
  75   temporary failure, try again later (e.g. a mailbox is locked)
  130  interrupted (Ctrl-C / SIGTERM); messages already delivered are kept, and a re-run
       completes the conversion without duplicates
`

type convOpts struct {
	spool, recurse, contentLength, help bool
	src, dest, sub, list, strip         string
	json, quiet, utf8, compat           bool
	format, tz, sync, layout            string
	lockTimeout                         time.Duration
	jobs                                int
	dryRun, verify                      bool
}

// Run executes the command line and returns the exit code. Only main calls os.Exit.
func Run(ctx context.Context, env Env) int {
	var o convOpts
	root := &cobra.Command{
		Use:   "mb2md [-m | -s FILE|DIR] [-d DIR] [-R | -f DIR] [-l FILE] [-r EXT] [-c] [options]",
		Short: "convert mbox mailboxes to Maildir, faithfully",
		Long: `mb2md converts mbox spool files and folder directories into Maildir++ so that Dovecot
shows every message exactly as it did from the mbox: same bytes, flags, dates and folders.
It accepts the command line of mb2md 3.20. Paths that start with "/" are absolute, paths that
start with "." are relative to the current directory, all others relative to $HOME.

Re-running into the same destination adds nothing: messages already converted are recognised
by their content and skipped.`,
		Example: `  mb2md -m                          # your spool file into ~/Maildir
  mb2md -s mail -R -d /home/alice/Maildir
  mb2md -s /var/spool/mail/alice -d /srv/maildirs/alice --json`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		Version:       Version,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.help {
				return cmd.Help()
			}
			return runConvert(ctx, env, args, &o)
		},
	}
	root.SetVersionTemplate("mb2md {{.Version}}\n")
	root.SetArgs(env.Args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.SetHelpTemplate(root.HelpTemplate() + exitHelp)
	root.CompletionOptions.DisableDefaultCmd = true

	f := root.Flags()
	f.SortFlags = false
	f.SetInterspersed(true)
	f.BoolVarP(&o.spool, "spool", "m", false, "convert your spool file ($MAIL, /var/spool/mail/$USER or /var/mail/$USER) into the destination root (INBOX)")
	f.StringVarP(&o.src, "source", "s", "", "source mbox FILE (into the root) or DIR of mbox folders")
	f.StringVarP(&o.dest, "dest", "d", "Maildir", "destination Maildir root")
	f.BoolVarP(&o.recurse, "recursive", "R", false, "with -s DIR: also convert subdirectories")
	f.StringVarP(&o.sub, "folder", "f", "", "with -s DIR: convert only the subtree DIR (always recursive; not with -R)")
	f.StringVarP(&o.list, "list", "l", "", "convert only the mailboxes listed in FILE (UW-IMAP .mailboxlist)")
	f.StringVarP(&o.strip, "strip-ext", "r", "", "remove the extension EXT from folder names (e.g. -r mbx: Sent.mbx → Sent)")
	f.BoolVarP(&o.contentLength, "content-length", "c", false, "trust Content-Length headers (same as --format mboxcl)")
	f.StringVar(&o.format, "format", "auto", "mbox flavour: auto (split where Dovecot splits), mboxo, mboxrd, mboxcl, mboxcl2")
	f.StringVar(&o.tz, "tz", "", "time zone for From_ dates without one (default: the local zone, as mb2md and Dovecot do)")
	f.BoolVar(&o.compat, "compat", false, "reproduce Debian mb2md 3.20's output byte for byte (headers kept, everything in cur/, raw folder names), without its data-loss bugs")
	f.StringVar(&o.layout, "layout", "maildir++", "folder layout: maildir++ (.lists.debian) or fs (lists/debian, for Dovecot's LAYOUT=fs)")
	f.BoolVar(&o.utf8, "utf8", false, "write folder names in UTF-8 (for Dovecot's :UTF-8 layouts) instead of modified UTF-7")
	f.StringVar(&o.sync, "sync", "batch", "durability: batch (sync the file system before messages become visible), each (fsync every file), none (unsafe; tests only)")
	f.IntVar(&o.jobs, "jobs", 0, "parallel workers (default: number of CPUs)")
	f.BoolVar(&o.dryRun, "dry-run", false, "write nothing: report what a conversion would do (same counts, \"dry_run\": true in --json)")
	f.BoolVar(&o.verify, "verify", false, "after converting, verify the Maildir against the source (exit status 3 on differences; see 'mb2md verify')")
	f.BoolVar(&o.json, "json", false, "print the report as one JSON document on stdout")
	f.DurationVar(&o.lockTimeout, "lock-timeout", time.Minute, "with -m: how long to wait for the MTA's spool lock (dotlock + fcntl) before giving up with exit 75")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print only errors and the final summary line")
	f.BoolVarP(&o.help, "help", "h", false, "show this help")

	root.AddCommand(dateCommand(env))
	root.AddCommand(usersCommand(ctx, env))
	root.AddCommand(skelCommand(env))
	root.AddCommand(verifyCommand(ctx, env))

	err := root.ExecuteContext(ctx)
	return exitCode(env, err)
}

func exitCode(env Env, err error) int {
	if err == nil {
		return ExitOK
	}
	var ue usageError
	var se *source.UsageError
	switch {
	case errors.As(err, &ue), errors.As(err, &se):
		fmt.Fprintf(env.Stderr, "mb2md: usage: %v\nRun 'mb2md --help' for the options.\n", err)
		return ExitUsage
	case errors.Is(err, convert.ErrInterrupted), errors.Is(err, context.Canceled):
		fmt.Fprintln(env.Stderr, "mb2md: interrupted: messages already delivered are kept; run the same command again to finish")
		return ExitInterrupted
	}
	var ec exitErr
	if errors.As(err, &ec) {
		return ec.code
	}
	fmt.Fprintf(env.Stderr, "mb2md: error: %v\n", err)
	return ExitFailure
}

// exitErr carries an exit code for a run whose problems were already reported.
type exitErr struct{ code int }

func (e exitErr) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func runConvert(ctx context.Context, env Env, args []string, o *convOpts) error {
	if len(args) > 0 {
		fmt.Fprintf(env.Stderr, "mb2md: warning: extra arguments ignored, as mb2md 3.20 does: %s\n", strings.Join(args, " "))
	}
	if o.dryRun && o.verify {
		return usageError{errors.New("--dry-run and --verify cannot be combined: a dry run writes nothing to verify")}
	}
	if o.spool && o.src != "" {
		fmt.Fprintln(env.Stderr, "mb2md: warning: -m and -s given: -m wins and -s is ignored, as in mb2md 3.20")
	}
	plan, copt, err := prepare(env, o)
	if err != nil {
		return err
	}
	mode := "default"
	if o.compat {
		mode = "compat"
	}
	if o.spool {
		unlock, err := lockSpool(ctx, env, plan, o.dryRun, o.lockTimeout)
		if err != nil {
			return err
		}
		defer unlock()
	}
	text := &report.Text{W: env.Stderr, Quiet: o.quiet, DryRun: o.dryRun}
	if o.dryRun {
		copt.Sink = convert.DryRunSink{}
	}
	results, runErr := convert.Run(ctx, plan, copt, text)
	doc := &report.Document{Mode: mode, DryRun: o.dryRun, Dest: plan.Dest, Mailboxes: results, Totals: report.Sum(results)}
	for _, s := range plan.Skipped {
		doc.Skipped = append(doc.Skipped, report.Skip{Path: s.Path, Reason: s.Reason})
	}
	if runErr != nil && !errors.Is(runErr, convert.ErrInterrupted) {
		return runErr
	}
	text.Summary(doc)
	if o.dryRun {
		dryRunNotes(env, plan.Dest, doc.Mailboxes)
	}
	if o.verify && runErr == nil {
		return verifyAfter(ctx, env, plan, copt, o, doc)
	}
	if o.json {
		if err := report.WriteJSON(env.Stdout, doc); err != nil {
			return fmt.Errorf("write JSON report: %w", err)
		}
	}
	if runErr != nil {
		return runErr
	}
	if doc.Totals.Errors > 0 {
		return exitErr{ExitFailure}
	}
	return nil
}

func location(tz string) (*time.Location, error) {
	if tz == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("--tz %q: unknown time zone; use an IANA name such as Europe/Berlin or UTC", tz)
	}
	return loc, nil
}

func sourceConfig(env Env) source.Config {
	cfg := source.Config{Cwd: env.Cwd, SpoolDirs: []string{"/var/spool/mail", "/var/mail"}}
	u, uerr := user.LookupId(fmt.Sprint(os.Getuid()))
	if uerr == nil {
		cfg.User = u.Username
	}
	if h, ok := env.Getenv("HOME"); ok {
		cfg.Home = h
	} else if uerr == nil {
		cfg.Home = u.HomeDir
	}
	if m, ok := env.Getenv("MAIL"); ok {
		cfg.Mail = &m
	}
	return cfg
}
