package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mb2md/mb2md/internal/source"
	"github.com/mb2md/mb2md/internal/spoollock"
)

// lockSpool takes the -m spool's lock the way Postfix local and Dovecot take it (dotlock
// <spool>.lock where the spool directory allows it, plus fcntl), so mail delivered during the
// conversion is either converted whole or stays for the next run. The plan's mailbox then
// reads through the locked file. The returned func releases the lock.
func lockSpool(ctx context.Context, env Env, plan *source.Plan, dryRun bool, timeout time.Duration) (func(), error) {
	opt := spoollock.DefaultOptions()
	opt.Timeout = timeout
	opt.AutoTouch = 30 * time.Second
	if dryRun {
		opt.Dotlock = false // a dry run writes nothing, not even a lock file
	}
	held, err := spoollock.Lock(ctx, plan.Source, opt)
	if errors.Is(err, spoollock.ErrLocked) {
		fmt.Fprintf(env.Stderr, "mb2md: %v\n", err)
		return nil, exitErr{ExitTemporary}
	}
	if err != nil {
		return nil, fmt.Errorf("lock spool %s: %w", plan.Source, err)
	}
	if w := held.Warning(); w != "" {
		fmt.Fprintf(env.Stderr, "mb2md: warning: %s\n", w)
	}
	if f := held.File(); f != nil {
		plan.Mailboxes[0].File = f
	}
	return func() { _ = held.Unlock() }, nil
}
