// Command mb2md converts mbox mailboxes to Maildir. See internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mb2md/mb2md/internal/cli"
	"github.com/mb2md/mb2md/internal/privsep"
)

func main() {
	if code, ok := privsep.MaybeChild(); ok { // a per-user child of 'mb2md users'
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.OSEnv())
	stop()
	os.Exit(code)
}
