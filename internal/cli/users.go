package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/mb2md/mb2md/internal/convert"
	"github.com/mb2md/mb2md/internal/report"
	"github.com/mb2md/mb2md/internal/site"
	"github.com/mb2md/mb2md/internal/users"
	"github.com/mb2md/mb2md/internal/verify"
)

type usersOpts struct {
	all                          bool
	passwd, spool, maildir, fold string
	minUID, jobs                 int
	json, quiet                  bool
	shard                        string
	lockTimeout                  time.Duration
	format, tz, sync, layout     string
	utf8, compat, contentLength  bool
	dryRun, verify, strict       bool
	verifyOnly                   bool // mb2md verify users
}

func usersCommand(ctx context.Context, env Env) *cobra.Command {
	var o usersOpts
	cmd := &cobra.Command{
		Use:   "users [USER…] [--all] [options]",
		Short: "convert the spool (and folders) of many users, as root, each as its own user",
		Long: `mb2md users converts, for each user named (or every user with uid >= --min-uid with
--all), the spool file <--spool>/<user> into ~/Maildir and, with --folders DIR, the mbox folders
in ~/DIR (like -s DIR -R) into the same Maildir. Users without a spool get an empty Maildir.

It is meant to be run as root on migration day. For each user the spool is locked the way
Postfix local and Dovecot lock it (dotlock <spool>.lock plus fcntl) for the whole read, so mail
delivered during the run is either converted or left for the next run; everything in the home is
done by a child process running with the user's uid and gid, so links planted by the user
cannot make mb2md read or write anything that user could not. A home or spool that is not owned
by its user, or is a symbolic link, is refused (that user ends with status "error"; the others
go on). Files are created 0600, directories 0700.

Runs are incremental: messages already in the Maildir are recognised by their content and
skipped, so a pre-copy days ahead followed by a second run during the downtime converts only the
mail that arrived in between, and a run that was killed ends, when run again, with every message
exactly once. The spool is never modified.

With --dry-run each child runs the same pipeline with a recording sink instead of the Maildir
writer: nothing is created in any home, the spools are still locked while read, and the report
("dry_run": true in --json) gives per user what a real run right after will do. With --verify
each child verifies the user's Maildir against the same plan right after converting it (see
'mb2md verify users' to verify later).

Each user's result is printed as one line on stderr: ok, error (refused or failed), locked (the
lock was not free within --lock-timeout; run again later), skipped (no home directory) or, with
--verify, differs (exit status 3).`,
		Example: `  mb2md users --all --folders mail --dry-run --json > plan.json
  mb2md users --all --folders mail --jobs 8 --verify
  mb2md users alice bob --json
  mb2md users --all --shard 3/8       # the third of eight slices, e.g. on the third host`,
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
	f.StringVar(&o.sync, "sync", "batch", "durability: batch, each or none (unsafe; tests only)")
	f.BoolVar(&o.dryRun, "dry-run", false, "write nothing: report per user what a conversion would do (same counts, \"dry_run\": true in --json); the spools are still locked while read")
	f.BoolVar(&o.verify, "verify", false, "after converting each user, verify the Maildir against the sources (exit status 3 on differences; see 'mb2md verify users')")
	f.BoolVar(&o.strict, "strict", false, "with --verify: also count deleted messages, changed flags and files not written by mb2md")
	f.BoolVar(&o.json, "json", false, "print the report as one JSON document on stdout")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print only users that did not end ok, and the summary")
	return cmd
}

// addUsersFlags adds the flags that select the users and say how they were converted, shared by
// 'mb2md users' and 'mb2md verify users'.
func addUsersFlags(f *pflag.FlagSet, o *usersOpts) {
	f.BoolVar(&o.all, "all", false, "every user with uid >= --min-uid (with names: those too)")
	f.StringVar(&o.passwd, "passwd", "/etc/passwd", "passwd(5) file listing the users")
	f.StringVar(&o.spool, "spool", "", "spool directory (default /var/spool/mail, else /var/mail)")
	f.IntVar(&o.minUID, "min-uid", 1000, "with --all: skip users with a smaller uid (system accounts)")
	f.StringVar(&o.maildir, "maildir", "Maildir", "destination Maildir, relative to each home")
	f.StringVar(&o.fold, "folders", "", "mbox folder directory relative to each home (e.g. mail), converted like -s DIR -R (default: none)")
	f.IntVar(&o.jobs, "jobs", 1, "users done in parallel")
	f.StringVar(&o.shard, "shard", "", "K/N: take only the K-th of N deterministic slices of the users (by name), for spreading a site over hosts")
	f.DurationVar(&o.lockTimeout, "lock-timeout", 5*time.Minute, "how long to wait for each spool lock before giving up on that user (status locked, exit 75)")
	f.StringVar(&o.format, "format", "auto", "mbox flavour: auto, mboxo, mboxrd, mboxcl, mboxcl2")
	f.BoolVarP(&o.contentLength, "content-length", "c", false, "trust Content-Length headers (same as --format mboxcl)")
	f.StringVar(&o.tz, "tz", "", "time zone for From_ dates without one (default: the local zone)")
	f.BoolVar(&o.compat, "compat", false, "reproduce Debian mb2md 3.20's output (see mb2md --help)")
	f.BoolVar(&o.utf8, "utf8", false, "write folder names in UTF-8 instead of modified UTF-7")
	f.StringVar(&o.layout, "layout", "maildir++", "folder layout: maildir++ (.lists.debian) or fs (lists/debian, for Dovecot's LAYOUT=fs)")
}

// lockedWriter serialises writes from parallel children.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func defaultSpoolDir() string {
	if fi, err := os.Stat("/var/spool/mail"); err == nil && fi.IsDir() {
		return "/var/spool/mail"
	}
	return "/var/mail"
}

func runUsers(ctx context.Context, env Env, args []string, o *usersOpts) error {
	if o.jobs < 1 {
		return usageError{fmt.Errorf("--jobs %d: give a positive number", o.jobs)}
	}
	if o.lockTimeout < 0 {
		return usageError{fmt.Errorf("--lock-timeout %s: give a duration of 0 or more", o.lockTimeout)}
	}
	cfg := site.Config{
		Passwd: o.passwd, SpoolDir: o.spool, Names: args, All: o.all, MinUID: o.minUID,
		Maildir: o.maildir, Folders: o.fold, Jobs: o.jobs, LockTimeout: o.lockTimeout,
		Conv: site.ConvOptions{Format: o.format, ContentLength: o.contentLength, TZ: o.tz, Sync: o.sync,
			Layout: o.layout, UTF8: o.utf8, Compat: o.compat, Now: env.Now().UnixNano()},
		DryRun: o.dryRun, Verify: o.verify, VerifyOnly: o.verifyOnly, Strict: o.strict,
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = defaultSpoolDir()
	}
	if o.shard != "" {
		k, n, err := users.ParseShard(o.shard)
		if err != nil {
			return usageError{fmt.Errorf("--shard: %v", err)}
		}
		cfg.ShardK, cfg.ShardN = k, n
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(env.Stderr, "mb2md: warning: not running as root: only your own account can be converted")
	}
	stderr := &lockedWriter{w: env.Stderr}
	cfg.Output = stderr
	var prog *progress
	if isTerminal(env.Stderr) {
		if sel, bad, err := site.LoadUsers(cfg); err == nil {
			prog = &progress{w: stderr, total: len(sel) + len(bad), start: time.Now()}
		}
	}
	if prog != nil {
		cfg.OnProgress = prog.update
	}
	cfg.OnDone = func(r *site.UserResult) {
		prog.add(r, func() {
			if !o.quiet || r.Status != site.StatusOK || len(r.Warnings) > 0 {
				stderr.Write([]byte(userLine(r, o.quiet, o.dryRun)))
			}
		})
	}
	rep, err := site.Run(ctx, cfg)
	prog.clear()
	var ce *site.ConfigError
	if errors.As(err, &ce) {
		return usageError{err}
	}
	if rep == nil {
		return err
	}
	if o.verifyOnly {
		vt := sumVerify(rep)
		fmt.Fprintf(stderr, "mb2md: verified %d users (%d ok, %d differ, %d error, %d locked, %d skipped): %d messages, %d ok, %d differences\n",
			len(rep.Users), rep.Count(site.StatusOK), rep.Count(site.StatusDiffers), rep.Count(site.StatusError),
			rep.Count(site.StatusLocked), rep.Count(site.StatusSkipped), vt.Messages, vt.OK, vt.Differences)
		if o.json {
			doc := usersVerifyDoc{Dest: "~/" + cfg.Maildir, Strict: o.strict, Users: rep.Users, Totals: vt}
			if doc.Users == nil {
				doc.Users = []*site.UserResult{}
			}
			if werr := writeJSON(env, doc); werr != nil {
				return werr
			}
		}
	} else {
		mboxes := rep.Mailboxes()
		doc := usersDoc{Document: report.Document{Mode: "default", DryRun: o.dryRun, Dest: "~/" + cfg.Maildir, Mailboxes: mboxes,
			Skipped: rep.Skipped(), Totals: report.Sum(mboxes)}, Users: rep.Users}
		if o.compat {
			doc.Mode = "compat"
		}
		t := doc.Totals
		written, differ := "written", ""
		if o.dryRun {
			written = "would be written"
		}
		if o.verify {
			differ = fmt.Sprintf(", %d differ", rep.Count(site.StatusDiffers))
		}
		fmt.Fprintf(stderr, "mb2md: %d users (%d ok%s, %d error, %d locked, %d skipped), %d mailboxes: %d messages, %d %s, %d already there, %d warnings\n",
			len(rep.Users), rep.Count(site.StatusOK), differ, rep.Count(site.StatusError), rep.Count(site.StatusLocked),
			rep.Count(site.StatusSkipped), t.Mailboxes, t.Messages, t.Written, written, t.SkippedExisting, t.Warnings)
		if o.dryRun {
			for _, u := range rep.Users {
				if u.Status == site.StatusOK {
					if w := spaceWarning(u.Dest, u.Bytes); w != "" {
						fmt.Fprintf(stderr, "mb2md: warning: user %s: %s\n", u.Name, w)
					}
				}
			}
			fmt.Fprintln(stderr, dryRunDone)
		}
		if o.json {
			if werr := writeUsersJSON(env.Stdout, &doc); werr != nil {
				return fmt.Errorf("write JSON report: %w", werr)
			}
		}
	}
	if err != nil {
		return err
	}
	switch {
	case rep.Count(site.StatusError) > 0:
		return exitErr{ExitFailure}
	case rep.Count(site.StatusDiffers) > 0:
		return exitErr{ExitDiffers}
	case rep.Count(site.StatusLocked) > 0:
		fmt.Fprintln(stderr, "mb2md: some spools were locked: run the same command again later to convert them")
		return exitErr{ExitTemporary}
	}
	return nil
}

func userLine(r *site.UserResult, quiet, dryRun bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "mb2md: user %s (uid %d): %s", r.Name, r.UID, r.Status)
	switch {
	case r.Status == site.StatusOK && r.Verify != nil && len(r.Mailboxes) == 0:
		fmt.Fprintf(&b, ", %d folders, %d messages verified in %s", len(r.Verify.Folders), r.Verify.Messages, r.Dest)
	case r.Status == site.StatusOK:
		written := "written"
		if dryRun {
			written = "would be written"
		}
		fmt.Fprintf(&b, ", %d mailboxes, %d messages, %d %s, %d already there -> %s", len(r.Mailboxes), r.Messages, r.Written, written, r.SkippedExisting, r.Dest)
		if r.Verify != nil {
			fmt.Fprintf(&b, ", verified: %d ok", r.Verify.OK)
		}
	default:
		if len(r.Mailboxes) > 0 && (r.Messages > 0 || r.Written > 0) {
			fmt.Fprintf(&b, " (%d messages, %d written)", r.Messages, r.Written)
		}
		fmt.Fprintf(&b, ": %s", r.Error)
	}
	b.WriteByte('\n')
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "mb2md: warning: user %s: %s\n", r.Name, w)
	}
	for _, m := range r.Mailboxes {
		for _, w := range m.Warnings {
			if w.Line > 0 {
				fmt.Fprintf(&b, "mb2md: warning: user %s: %s:%d: %s\n", r.Name, m.Source, w.Line, w.Message)
			} else {
				fmt.Fprintf(&b, "mb2md: warning: user %s: %s\n", r.Name, w.Message)
			}
		}
	}
	if r.Verify != nil && (!r.Verify.Clean() || len(r.Verify.Counts) > 0) {
		// findings (notes too) and the user's verification summary; nothing more for a clean user
		text := verify.Text(r.Verify)
		if quiet {
			text = quietText(r.Verify)
		}
		for _, line := range strings.SplitAfter(text, "\n") {
			if rest, ok := strings.CutPrefix(line, "mb2md: "); ok {
				fmt.Fprintf(&b, "mb2md: user %s: %s", r.Name, rest)
			}
		}
	}
	return b.String()
}

// usersVerifyDoc is the JSON report of 'mb2md verify users'.
type usersVerifyDoc struct {
	Dest   string             `json:"dest"`
	Strict bool               `json:"strict"`
	Users  []*site.UserResult `json:"users"`
	Totals usersVerifyTotals  `json:"totals"`
}

type usersVerifyTotals struct {
	Users        int `json:"users"`
	Messages     int `json:"messages"`
	OK           int `json:"ok"`
	Differences  int `json:"differences"`
	SourceErrors int `json:"source_errors"`
}

func sumVerify(rep *site.Report) usersVerifyTotals {
	t := usersVerifyTotals{Users: len(rep.Users)}
	for _, u := range rep.Users {
		if v := u.Verify; v != nil {
			t.Messages += v.Messages
			t.OK += v.OK
			t.Differences += v.Differences
			t.SourceErrors += v.SourceErrors
		}
	}
	return t
}

// usersDoc is the JSON report of 'mb2md users': the core fields plus one entry per user.
type usersDoc struct {
	report.Document
	Users []*site.UserResult `json:"users"`
}

func writeUsersJSON(w io.Writer, d *usersDoc) error {
	for _, r := range d.Mailboxes {
		if r.Warnings == nil {
			r.Warnings = []convert.Warning{}
		}
	}
	if d.Skipped == nil {
		d.Skipped = []report.Skip{}
	}
	if d.Mailboxes == nil {
		d.Mailboxes = []*convert.Result{}
	}
	if d.Users == nil {
		d.Users = []*site.UserResult{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

func skelCommand(env Env) *cobra.Command {
	var folders string
	var noSubs bool
	cmd := &cobra.Command{
		Use:   "skel [DIR] [--folders Sent,Drafts,Trash,Junk]",
		Short: "make an empty Maildir for new accounts (default /etc/skel/Maildir)",
		Long: `mb2md skel makes DIR (default /etc/skel/Maildir) an empty Maildir (tmp, new, cur; mode 0700)
with the Maildir++ folders given by --folders (a "/" separates levels: Archive/2022), each with
its maildirfolder marker, and a Dovecot subscriptions file that subscribes them. useradd copies
/etc/skel into each new home, so new accounts start with the same folders as converted ones.
Running it again adds missing folders and subscriptions and changes nothing else; it never
follows a symbolic link.`,
		Args:          cobra.MaximumNArgs(1),
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "/etc/skel/Maildir"
			if len(args) == 1 {
				dir = args[0]
			}
			var fl []string
			for _, f := range strings.Split(folders, ",") {
				if f = strings.TrimSpace(f); f != "" {
					fl = append(fl, f)
				}
			}
			if err := users.Skel(dir, fl, users.SkelOptions{NoSubscriptions: noSubs}); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "mb2md: empty Maildir %s ready (%d folders)\n", dir, len(fl))
			return nil
		},
	}
	cmd.Flags().StringVar(&folders, "folders", "", "comma-separated folders to create, e.g. Sent,Drafts,Trash,Junk")
	cmd.Flags().BoolVar(&noSubs, "no-subscriptions", false, "do not write the subscriptions file")
	return cmd
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progress is the status line shown on a terminal: users done, messages and bytes so far in
// total, the running counts of the users being converted, and an estimate of the time left
// from the share of users done. Its methods do nothing on a nil *progress (not a terminal).
type progress struct {
	w     io.Writer
	total int
	start time.Time

	mu                sync.Mutex
	done              int
	messages, written int
	bytes             int64
	live              map[string]liveUser // users being converted
	liveOrder         []string
	lastDraw          time.Time
}

type liveUser struct {
	messages int
	bytes    int64
}

func (p *progress) clear() {
	if p != nil {
		io.WriteString(p.w, "\r\033[K")
	}
}

// add prints a finished user's result line (print) above the status line, counts the user
// and redraws.
func (p *progress) add(r *site.UserResult, print func()) {
	if p == nil {
		print()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	io.WriteString(p.w, "\r\033[K")
	print()
	p.done++
	p.messages += r.Messages
	p.written += r.Written
	for _, m := range r.Mailboxes {
		p.bytes += m.Bytes
	}
	p.forget(r.Name)
	p.draw()
}

// update records a user's running totals; the line is redrawn at most every 200 ms.
func (p *progress) update(user string, messages int, bytes int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live == nil {
		p.live = map[string]liveUser{}
	}
	if _, ok := p.live[user]; !ok {
		p.liveOrder = append(p.liveOrder, user)
	}
	p.live[user] = liveUser{messages, bytes}
	if time.Since(p.lastDraw) >= 200*time.Millisecond {
		io.WriteString(p.w, "\r\033[K")
		p.draw()
	}
}

func (p *progress) forget(user string) {
	delete(p.live, user)
	for i, u := range p.liveOrder {
		if u == user {
			p.liveOrder = append(p.liveOrder[:i], p.liveOrder[i+1:]...)
			break
		}
	}
}

// draw prints the line; p.mu is held.
func (p *progress) draw() {
	p.lastDraw = time.Now()
	messages, bytes := p.messages, p.bytes
	var now []string
	for _, u := range p.liveOrder {
		l := p.live[u]
		messages += l.messages
		bytes += l.bytes
		if len(now) < 3 {
			now = append(now, fmt.Sprintf("%s %d (%s)", u, l.messages, report.HumanBytes(l.bytes)))
		}
	}
	eta := "?"
	switch {
	case p.done >= p.total:
		eta = "0s"
	case p.done > 0:
		el := time.Since(p.start)
		eta = (el * time.Duration(p.total-p.done) / time.Duration(p.done)).Round(time.Second).String()
	}
	line := fmt.Sprintf("mb2md: %d/%d users, %d messages, %s", p.done, p.total, messages, report.HumanBytes(bytes))
	if len(now) > 0 {
		line += "; now " + strings.Join(now, ", ")
		if more := len(p.liveOrder) - len(now); more > 0 {
			line += fmt.Sprintf(" +%d", more)
		}
	}
	fmt.Fprintf(p.w, "%s; ETA %s", line, eta)
}
