// Package site converts the mail of many users of one host, as root, safely: the parent process
// (root) picks the users, checks that each home and spool belongs to its user, takes the spool
// lock the way Postfix local and Dovecot do (dotlock plus fcntl) and hands the locked spool to a
// child process that runs with the user's uid and gid (internal/privsep). The child does
// everything inside the home: it resolves the plan (the spool into the Maildir root, the folder
// directory like -s DIR -R into the same Maildir) and runs the converter, so a link planted by
// the user can never make mb2md read or write anything that user could not.
//
// A run is incremental and crash-safe because the converter is: messages already in the
// Maildir are recognised by their content and skipped, so a second run converts only new mail,
// and a run killed at any point and run again ends with every message exactly once. The spool
// is opened read-only and never modified.
package site

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mb2md/mb2md/internal/convert"
	"github.com/mb2md/mb2md/internal/privsep"
	"github.com/mb2md/mb2md/internal/report"
	"github.com/mb2md/mb2md/internal/spoollock"
	"github.com/mb2md/mb2md/internal/users"
	"github.com/mb2md/mb2md/internal/verify"
)

// Status is the outcome for one user.
type Status string

// Statuses of a user.
const (
	StatusOK      Status = "ok"
	StatusError   Status = "error"   // refused or failed; the others went on
	StatusLocked  Status = "locked"  // the spool lock was not free within the lock timeout
	StatusSkipped Status = "skipped" // nothing to do (the home does not exist)
	// StatusDiffers: the verification (Config.Verify, Config.VerifyOnly) found differences
	// between the user's sources and Maildir.
	StatusDiffers Status = "differs"
)

// Config says which users to convert and how.
type Config struct {
	Passwd   string   // passwd(5) file
	SpoolDir string   // directory holding the spool files, one per user name
	Names    []string // users asked for by name
	All      bool     // every user with uid >= MinUID
	MinUID   int
	// Maildir is the destination relative to each home (e.g. "Maildir").
	Maildir string
	// Folders is each user's mbox folder directory relative to the home (e.g. "mail"),
	// converted like -s DIR -R into the same Maildir; "" leaves folders alone.
	Folders string
	// Jobs is how many users are converted at the same time (default 1).
	Jobs int
	// ShardK of ShardN (1-based) takes a deterministic slice of the users (users.Shard);
	// ShardN <= 1 takes everyone.
	ShardK, ShardN int
	// LockTimeout is how long to wait for each spool lock (0: a single try).
	LockTimeout time.Duration
	// Conv are the conversion options, passed to every child.
	Conv ConvOptions
	// Output receives what children print (their stdout and stderr); nil means os.Stderr.
	Output io.Writer
	// OnDone, when set, is called once per user as it finishes, one call at a time.
	OnDone func(*UserResult)
	// OnProgress, when set, receives each user's running totals (messages done, bytes
	// written) while the user is converted; calls for different users may overlap.
	OnProgress func(user string, messages int, bytes int64)
	// DryRun makes each child run the conversion with convert.DryRunSink: the Maildir writer is
	// never built and nothing is created or changed in any home. The spool is still locked, so
	// the prediction is made from a consistent read.
	DryRun bool
	// Verify makes each child verify the user's Maildir against the same plan right after
	// converting it (verify.Run); VerifyOnly verifies without converting. Strict is
	// verify.Options.Strict.
	Verify, VerifyOnly, Strict bool
	// Lock replaces spoollock.Lock (tests).
	Lock func(ctx context.Context, path string, opt spoollock.Options) (*spoollock.Held, error)
}

// UserResult is the outcome for one user.
type UserResult struct {
	Name     string `json:"name"`
	UID      int    `json:"uid"`
	Status   Status `json:"status"`
	Messages int    `json:"messages"`
	Written  int    `json:"written"` // with Config.DryRun: would be written
	// SkippedExisting counts messages already in the Maildir (with Config.DryRun: that a
	// conversion would skip).
	SkippedExisting int    `json:"skipped_existing"`
	Bytes           int64  `json:"bytes"`
	Error           string `json:"error"`
	// Dest is the user's Maildir.
	Dest string `json:"dest,omitempty"`
	// Warnings are problems that did not stop the user (e.g. a stale dotlock was broken).
	Warnings []string `json:"warnings,omitempty"`
	// Verify is the verification of the user's Maildir (Config.Verify, Config.VerifyOnly).
	Verify *verify.Report `json:"verify,omitempty"`

	Mailboxes []*convert.Result `json:"-"`
	Skipped   []report.Skip     `json:"-"`
}

// Report is the outcome of a run, users in the order they were selected.
type Report struct {
	Users []*UserResult
}

// Count returns how many users ended with status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, u := range r.Users {
		if u.Status == s {
			n++
		}
	}
	return n
}

// Mailboxes returns the mailbox results of every user, in user order.
func (r *Report) Mailboxes() []*convert.Result {
	var out []*convert.Result
	for _, u := range r.Users {
		out = append(out, u.Mailboxes...)
	}
	return out
}

// Skipped returns the skipped source entries of every user.
func (r *Report) Skipped() []report.Skip {
	var out []report.Skip
	for _, u := range r.Users {
		out = append(out, u.Skipped...)
	}
	return out
}

// ConfigError is a mistake in the configuration (a usage error).
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// LoadUsers reads the passwd file and returns the selected users of this shard, plus results
// (status error) for names that are not in the passwd file.
func LoadUsers(cfg Config) ([]users.User, []*UserResult, error) {
	f, err := os.Open(cfg.Passwd)
	if err != nil {
		return nil, nil, fmt.Errorf("passwd file: %w; check --passwd", err)
	}
	defer f.Close()
	all, err := users.ParsePasswd(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", cfg.Passwd, err)
	}
	sel, probs := users.Select(all, cfg.Names, cfg.MinUID, cfg.All)
	var bad []*UserResult
	for _, p := range probs {
		if cfg.ShardN > 1 && users.ShardOf(p.Name, cfg.ShardN) != cfg.ShardK {
			continue
		}
		bad = append(bad, &UserResult{Name: p.Name, UID: -1, Status: StatusError, Error: p.Err.Error()})
	}
	if cfg.ShardN > 1 {
		sel = users.Shard(sel, cfg.ShardK, cfg.ShardN)
	}
	return sel, bad, nil
}

// Run converts the selected users, cfg.Jobs at a time. Per-user problems end up in the
// report; an error is returned only when nothing could be started (bad configuration, unreadable
// passwd file) or when ctx ended (the report then holds what was finished).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := validate(&cfg); err != nil {
		return nil, err
	}
	sel, bad, err := LoadUsers(cfg)
	if err != nil {
		return nil, err
	}
	rep := &Report{Users: make([]*UserResult, 0, len(sel)+len(bad))}
	var mu sync.Mutex
	done := func(r *UserResult) {
		mu.Lock()
		defer mu.Unlock()
		if cfg.OnDone != nil {
			cfg.OnDone(r)
		}
	}
	for _, r := range bad {
		rep.Users = append(rep.Users, r)
		done(r)
	}
	results := make([]*UserResult, len(sel))
	var g errgroup.Group
	g.SetLimit(cfg.Jobs)
	for i, u := range sel {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			r := convertUser(ctx, cfg, u)
			if ctx.Err() != nil && r.Status != StatusOK {
				return nil // interrupted: not reported as this user's failure
			}
			results[i] = r
			done(r)
			return nil
		})
	}
	_ = g.Wait()
	for _, r := range results {
		if r != nil {
			rep.Users = append(rep.Users, r)
		}
	}
	if err := ctx.Err(); err != nil {
		return rep, convert.ErrInterrupted
	}
	return rep, nil
}

func validate(cfg *Config) error {
	if cfg.Jobs <= 0 {
		cfg.Jobs = 1
	}
	if cfg.Output == nil {
		cfg.Output = os.Stderr
	}
	if cfg.Lock == nil {
		cfg.Lock = spoollock.Lock
	}
	if cfg.Maildir == "" {
		cfg.Maildir = "Maildir"
	}
	var err error
	if cfg.Maildir, err = inHome(cfg.Maildir, "--maildir"); err != nil {
		return err
	}
	if cfg.Folders != "" {
		if cfg.Folders, err = inHome(cfg.Folders, "--folders"); err != nil {
			return err
		}
	}
	if cfg.DryRun && (cfg.Verify || cfg.VerifyOnly) {
		return &ConfigError{"--dry-run and --verify cannot be combined: a dry run writes nothing to verify"}
	}
	if !cfg.All && len(cfg.Names) == 0 {
		return &ConfigError{"no users given: name them or give --all"}
	}
	if !filepath.IsAbs(cfg.SpoolDir) {
		return &ConfigError{fmt.Sprintf("spool directory %q is not an absolute path", cfg.SpoolDir)}
	}
	if _, err := cfg.Conv.Options(time.Now()); err != nil {
		return &ConfigError{err.Error()}
	}
	return nil
}

// inHome checks that p is a relative path that stays inside the home.
func inHome(p, opt string) (string, error) {
	c := filepath.Clean(p)
	if filepath.IsAbs(c) || c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", &ConfigError{fmt.Sprintf("%s %q: give a path relative to each user's home, inside it (e.g. Maildir)", opt, p)}
	}
	return c, nil
}

// convertUser does one user: checks, lock, child, unlock. It never returns nil.
func convertUser(ctx context.Context, cfg Config, u users.User) *UserResult {
	r := &UserResult{Name: u.Name, UID: u.UID, Dest: filepath.Join(u.Home, cfg.Maildir)}
	fail := func(st Status, err error) *UserResult {
		r.Status, r.Error = st, err.Error()
		return r
	}
	if u.UID == 0 {
		return fail(StatusError, errors.New("refusing to convert for uid 0: run mb2md as root directly (mb2md -m) if you mean it"))
	}
	if err := users.CheckOwnership(u.Home, u.UID); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			r.Dest = ""
			return fail(StatusSkipped, fmt.Errorf("home directory %s does not exist; nothing to convert into", u.Home))
		}
		return fail(StatusError, err)
	}
	if fi, err := os.Stat(u.Home); err == nil && !fi.IsDir() {
		return fail(StatusError, fmt.Errorf("home %s is not a directory", u.Home))
	}

	spool := users.SpoolPath(u, cfg.SpoolDir)
	var held *spoollock.Held
	switch err := users.CheckOwnership(spool, u.UID); {
	case errors.Is(err, fs.ErrNotExist):
		spool = "" // no mail: an empty Maildir
	case err != nil:
		return fail(StatusError, fmt.Errorf("spool: %w", err))
	default:
		opt := spoollock.DefaultOptions()
		opt.Timeout = cfg.LockTimeout
		opt.AutoTouch = 30 * time.Second
		if cfg.DryRun {
			// a dry run writes nothing, not even a lock file: the fcntl lock alone keeps
			// Postfix and Dovecot (which take both) from writing while we read
			opt.Dotlock = false
		}
		h, err := cfg.Lock(ctx, spool, opt)
		switch {
		case errors.Is(err, spoollock.ErrLocked):
			return fail(StatusLocked, err)
		case errors.Is(err, fs.ErrNotExist):
			spool = "" // removed while we looked
		case err != nil:
			return fail(StatusError, err)
		default:
			held = h
		}
	}
	if held != nil {
		defer func() {
			if err := held.Unlock(); err != nil {
				r.Warnings = append(r.Warnings, err.Error())
			}
		}()
		if w := held.Warning(); w != "" {
			r.Warnings = append(r.Warnings, w)
		}
		// The inode we locked (and will read) is the one that must belong to the user: the
		// name may have been swapped since the first look.
		fi, err := held.File().Stat()
		if err != nil {
			return fail(StatusError, fmt.Errorf("spool %s: %w", spool, err))
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || int(st.Uid) != u.UID || !fi.Mode().IsRegular() {
			owner := -1
			if ok {
				owner = int(st.Uid)
			}
			return fail(StatusError, fmt.Errorf("spool: %w", &users.OwnershipError{Path: spool, Owner: owner, Want: u.UID, NotOwned: true}))
		}
	}

	in := childJob{Home: u.Home, Maildir: cfg.Maildir, Folders: cfg.Folders, Spool: spool, Conv: cfg.Conv,
		Now: time.Now().UnixNano(), DryRun: cfg.DryRun, Verify: cfg.Verify, VerifyOnly: cfg.VerifyOnly, Strict: cfg.Strict}
	if cfg.Conv.Now != 0 {
		in.Now = cfg.Conv.Now
	}
	var out childResult
	output := cfg.Output
	var filter *progressFilter
	if cfg.OnProgress != nil {
		in.Progress = true
		name := u.Name
		filter = &progressFilter{next: cfg.Output, fn: func(m int, b int64) { cfg.OnProgress(name, m, b) }}
		output = filter
	}
	opts := []privsep.Option{privsep.WithOutput(output)}
	if held != nil {
		in.HasSpool = true
		opts = append(opts, privsep.WithFiles(held.File()))
	}
	err := privsep.Run(ctx, u, handlerName, in, &out, opts...)
	if filter != nil {
		_ = filter.Flush()
	}
	if err != nil {
		if errors.Is(err, spoollock.ErrLocked) {
			return fail(StatusLocked, err)
		}
		return fail(StatusError, err)
	}
	r.Mailboxes, r.Skipped = out.Mailboxes, out.Skipped
	r.Status = StatusOK
	var errs []string
	for _, m := range out.Mailboxes {
		if m == nil {
			continue
		}
		r.Messages += max(m.Messages, 0)
		r.Written += max(m.Written, 0)
		r.SkippedExisting += max(m.SkippedExisting, 0)
		r.Bytes += max(m.Bytes, 0)
		if m.Error != "" {
			errs = append(errs, m.Error)
		}
	}
	if len(errs) > 0 {
		r.Status = StatusError
		if len(errs) > 3 {
			errs = append(errs[:3], fmt.Sprintf("and %d more mailbox errors", len(errs)-3))
		}
		r.Error = strings.Join(errs, "; ")
	}
	if v := out.Verify; v != nil {
		r.Verify = v
		if cfg.VerifyOnly {
			r.Messages = max(v.Messages, 0)
		}
		switch {
		case r.Status != StatusOK:
			// a failed conversion wins over what the verification says
		case v.SourceErrors > 0:
			r.Status = StatusError
			r.Error = fmt.Sprintf("verification incomplete: %d sources could not be read", v.SourceErrors)
		case v.Differences > 0:
			r.Status = StatusDiffers
			r.Error = fmt.Sprintf("%d differences between the sources and %s", v.Differences, r.Dest)
		}
	} else if (cfg.Verify || cfg.VerifyOnly) && r.Status == StatusOK {
		r.Status = StatusError
		r.Error = "the child returned no verification report (internal error)"
	}
	return r
}
