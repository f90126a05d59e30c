// Command mb2md converts mbox mailboxes to Maildir. See internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mb2md/mb2md/internal/cli"
	"github.com/mb2md/mb2md/internal/memlimit"
	"github.com/mb2md/mb2md/internal/privsep"
)

// memoryLimit keeps the heap small: the garbage collector works harder near it instead of
// letting the heap double. It grows with the live heap of a huge mailbox (see memlimit);
// GOMEMLIMIT replaces it.
const memoryLimit = 28 << 20

func main() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		memlimit.Start(memoryLimit)
	}
	if code, ok := privsep.MaybeChild(); ok { // a per-user child of 'mb2md users'
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.OSEnv())
	stop()
	os.Exit(code)
}
