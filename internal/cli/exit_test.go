package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mb2md/mb2md/internal/convert"
	"github.com/mb2md/mb2md/internal/source"
)

// The documented exit-code table, and what is printed for each kind of error.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		text string
	}{
		{nil, 0, ""},
		{usageError{errors.New("bad flag")}, 2, "mb2md: usage: bad flag"},
		{&source.UsageError{Msg: "nothing to convert"}, 2, "mb2md: usage: nothing to convert"},
		{fmt.Errorf("mailbox x: %w", convert.ErrInterrupted), 130, "interrupted"},
		{context.Canceled, 130, "run the same command again"},
		{exitErr{ExitTemporary}, 75, ""},
		{exitErr{ExitDiffers}, 3, ""},
		{errors.New("disk on fire"), 1, "mb2md: error: disk on fire"},
	} {
		var stderr bytes.Buffer
		if got := exitCode(Env{Stderr: &stderr}, tc.err); got != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.err, got, tc.code)
		}
		if tc.text == "" && stderr.Len() != 0 || !strings.Contains(stderr.String(), tc.text) {
			t.Errorf("%v: printed %q, want %q", tc.err, stderr.String(), tc.text)
		}
	}
}
