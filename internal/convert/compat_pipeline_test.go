package convert

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/mbox"
	"github.com/mb2md/mb2md/internal/source"
)

// --compat through the parallel writers: messages smaller than, equal to and several times
// larger than the buffer (so written in pieces, spilled to a temp file) come out byte for
// byte as mb2md writes them (From_ line dropped, content as is, everything in cur/), with
// one writer and with several, and a second run adds nothing.
func TestCompatPipelineContents(t *testing.T) {
	const limit = 1024
	sizes := []int{0, 10, limit - 1, limit, limit + 1, 3*limit + 7, 20 * limit}
	var b strings.Builder
	var want []string
	for i, n := range sizes {
		body := strings.Repeat(fmt.Sprintf("line %d of a message body\n", i), n/10+1)[:n]
		if n > 0 {
			body = body[:n-1] + "\n" // mb2md splits only at a From_ line after a blank line
		}
		msg := fmt.Sprintf("Subject: %d\nStatus: RO\n\n%s", i, body)
		fmt.Fprintf(&b, "From a@example.org Sat Jan  3 01:05:%02d 1996\n%s\n", i, msg)
		want = append(want, msg+"\n")
	}
	src := filepath.Join(t.TempDir(), "spool")
	if err := os.WriteFile(src, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, jobs := range []int{1, 4} {
		dest := filepath.Join(t.TempDir(), "Maildir")
		plan := &source.Plan{Dest: dest, Single: true, Mailboxes: []source.Mailbox{{Path: src}}}
		opt := Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now(), Compat: true, BufferLimit: limit, Buffers: 3, Jobs: jobs, Sync: maildir.SyncNone}
		for run := 1; run <= 2; run++ {
			rs, err := Run(context.Background(), plan, opt, nopObserver{})
			if err != nil || rs[0].Error != "" {
				t.Fatal(err, rs[0].Error)
			}
			if wantW := map[int]int{1: len(sizes), 2: 0}[run]; rs[0].Written != wantW || rs[0].Messages != len(sizes) {
				t.Fatalf("jobs %d run %d: %d messages, %d written; want %d, %d", jobs, run, rs[0].Messages, rs[0].Written, len(sizes), wantW)
			}
		}
		ents, err := os.ReadDir(filepath.Join(dest, "cur"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range ents {
			c, err := os.ReadFile(filepath.Join(dest, "cur", e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(c))
		}
		sort.Strings(got)
		sort.Strings(want)
		if len(got) != len(want) {
			t.Fatalf("jobs %d: %d files, want %d", jobs, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("jobs %d: a file of %d bytes differs from the expected %d bytes", jobs, len(got[i]), len(want[i]))
			}
		}
		if n := files(t, dest); n["tmp"] != 0 || n["new"] != 0 {
			t.Errorf("jobs %d: %v, want everything in cur/ and nothing left in tmp/", jobs, n)
		}
	}
}
