package site_test

import (
	"context"
	"sync"
	"testing"

	"github.com/mb2md/mb2md/internal/site"
)

// Live progress: while users are converted, each child's running totals reach OnProgress
// (taken out of the child's output), and the last report equals the user's final counts.
func TestLiveProgress(t *testing.T) {
	needRoot(t)
	fx := newSite(t)
	fx.populate(6)
	var mu sync.Mutex
	last := map[string][2]int64{}
	calls := 0
	rep := fx.run(context.Background(), func(c *site.Config) {
		c.OnProgress = func(user string, messages int, bytes int64) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			prev := last[user]
			if int64(messages) < prev[0] || bytes < prev[1] {
				t.Errorf("%s: progress went back from %v to %d/%d", user, prev, messages, bytes)
			}
			last[user] = [2]int64{int64(messages), bytes}
		}
	})
	for _, u := range rep.Users {
		var written int64
		for _, m := range u.Mailboxes {
			written += m.Bytes
		}
		got := last[u.Name]
		if u.Status != site.StatusOK || got[0] != int64(u.Messages) || got[1] != written {
			t.Errorf("%s: last progress %v, final %d messages %d bytes (%s)", u.Name, got, u.Messages, written, u.Status)
		}
	}
	if calls < len(rep.Users) {
		t.Errorf("%d progress calls for %d users", calls, len(rep.Users))
	}
}
