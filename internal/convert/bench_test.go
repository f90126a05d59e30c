package convert

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mb2md/mb2md/internal/maildir"
	"github.com/mb2md/mb2md/internal/mbox"
	"github.com/mb2md/mb2md/internal/source"
)

// benchMbox writes n messages of about size bytes each.
func benchMbox(b *testing.B, n, size int) string {
	var buf bytes.Buffer
	line := bytes.Repeat([]byte("x"), 71)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&buf, "From sender%d@example.org Sat Jan  3 01:%02d:34 1996\n", i, i%60)
		fmt.Fprintf(&buf, "Received: from a by b; Sat, 3 Jan 1996 01:05:34 +0000\nDate: Sat, 3 Jan 1996 01:05:34 +0000\n")
		fmt.Fprintf(&buf, "From: a@example.org\nSubject: message %d\nMessage-ID: <%d@example.org>\nStatus: RO\n\n", i, i)
		for w := 0; w < size; w += len(line) + 1 {
			buf.Write(line)
			buf.WriteByte('\n')
		}
		buf.WriteByte('\n')
	}
	p := filepath.Join(b.TempDir(), "mbox")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkConvert converts 5,000 messages of 4 KiB into a Maildir on /dev/shm (or the temp
// dir) per iteration. MB2MD_BENCH_MBOX names another input.
func BenchmarkConvert(b *testing.B) {
	in := os.Getenv("MB2MD_BENCH_MBOX")
	if in == "" {
		in = benchMbox(b, 5000, 4096)
	}
	st, err := os.Stat(in)
	if err != nil {
		b.Fatal(err)
	}
	base := "/dev/shm"
	if _, err := os.Stat(base); err != nil {
		base = b.TempDir()
	}
	b.SetBytes(st.Size())
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dest, err := os.MkdirTemp(base, "mb2md-bench-")
		if err != nil {
			b.Fatal(err)
		}
		plan := &source.Plan{Dest: filepath.Join(dest, "Maildir"), Single: true, Mailboxes: []source.Mailbox{{Path: in}}}
		b.StartTimer()
		rs, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now(), Sync: maildir.SyncBatch}, nopObserver{})
		b.StopTimer()
		if err != nil || rs[0].Error != "" {
			b.Fatal(err, rs[0].Error)
		}
		os.RemoveAll(dest)
		b.StartTimer()
	}
}
