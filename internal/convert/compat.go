package convert

import (
	"context"
	"errors"

	"github.com/mb2md/mb2md/internal/source"
)

// convertCompat converts one mailbox the way Debian's mb2md 3.20 does (--compat).
func convertCompat(ctx context.Context, mb source.Mailbox, dir string, opt Options, r *Result) error {
	return errors.New("--compat is not implemented yet")
}
