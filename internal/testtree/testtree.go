// Package testtree writes the small source tree several packages' tests convert: an inbox,
// Sent and lists/debian (27 messages) with flags, identical messages and messages larger than
// a 4 KiB buffer. For tests only.
package testtree

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// All keeps every message: 9 in inbox, 7 in Sent, 11 in lists/debian.
const All = 1 << 20

// Write writes the tree into dir; keep bounds the messages of each file (the first keep).
// The files get an old mtime, so that a date fallback to it would show.
func Write(t testing.TB, dir string, keep int) {
	t.Helper()
	big := strings.Repeat("a fairly long line of a large message body\n", 500) // 22 KB
	status := []string{"Status: RO\n", "Status: O\n", "", "Status: RO\nX-Status: AF\n", "X-Status: DT\n"}
	for name, n := range map[string]int{"inbox": 9, "Sent": 7, "lists/debian": 11} {
		var b strings.Builder
		for i := 0; i < n && i < keep; i++ {
			subject := fmt.Sprintf("%s %d", name, i)
			if i%4 == 3 {
				subject = "same" // identical messages: one key, several occurrences
			}
			fmt.Fprintf(&b, "From a@example.org Sat Jan  3 01:05:%02d 1996\nSubject: %s\n%s\n", i, subject, status[i%len(status)])
			if i%3 == 1 {
				b.WriteString(big)
			} else {
				fmt.Fprintf(&b, "body %d\n", i%4)
			}
			b.WriteString("\n")
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		old := time.Unix(1_000_000_000, 0)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
}
