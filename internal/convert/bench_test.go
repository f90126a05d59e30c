package convert

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
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
// dir) per iteration, in the default mode and with --compat. MB2MD_BENCH_MBOX names another
// input. scripts/pgo.sh takes the profile for profile-guided optimisation from it.
func BenchmarkConvert(b *testing.B) {
	in := os.Getenv("MB2MD_BENCH_MBOX")
	if in == "" {
		in = benchMbox(b, 5000, 4096)
	}
	for _, compat := range []bool{false, true} {
		b.Run(map[bool]string{false: "default", true: "compat"}[compat], func(b *testing.B) {
			benchConvert(b, in, compat)
		})
	}
}

func benchConvert(b *testing.B, in string, compat bool) {
	st, err := os.Stat(in)
	if err != nil {
		b.Fatal(err)
	}
	base := "/dev/shm"
	if _, err := os.Stat(base); err != nil {
		base = b.TempDir()
	}
	b.SetBytes(st.Size())
	var user, sys time.Duration // CPU time of the timed parts (getrusage), reported per op
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dest, err := os.MkdirTemp(base, "mb2md-bench-")
		if err != nil {
			b.Fatal(err)
		}
		plan := &source.Plan{Dest: filepath.Join(dest, "Maildir"), Single: true, Mailboxes: []source.Mailbox{{Path: in}}}
		u0, s0 := cpuTimes(b)
		b.StartTimer()
		rs, err := Run(context.Background(), plan, Options{Format: mbox.Auto, Loc: time.UTC, Now: time.Now(), Sync: maildir.SyncBatch, Compat: compat}, nopObserver{})
		b.StopTimer()
		u1, s1 := cpuTimes(b)
		user += u1 - u0
		sys += s1 - s0
		if err != nil || rs[0].Error != "" {
			b.Fatal(err, rs[0].Error)
		}
		os.RemoveAll(dest)
		b.StartTimer()
	}
	b.ReportMetric(float64(user.Milliseconds())/float64(b.N), "user-ms/op")
	b.ReportMetric(float64(sys.Milliseconds())/float64(b.N), "sys-ms/op")
}

// cpuTimes returns the user and system CPU time of the process so far.
func cpuTimes(b *testing.B) (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
