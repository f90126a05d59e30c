package convert

import (
	"testing"
	"time"

	"github.com/mb2md/mb2md/internal/datefix"
)

// The cache gives the date of either of the last two separators accepted, and nothing for an
// older or unknown line, so the policy then parses the line itself.
func TestFromCache(t *testing.T) {
	var c fromCache
	l1, l2, l3 := []byte("From a Mon Jan  1 00:00:01 2001"), []byte("From b Mon Jan  1 00:00:02 2001"), []byte("From c x")
	t1, t2 := time.Unix(1, 0), time.Unix(2, 0)
	c.put(l1, t1)
	c.put(l2, t2)
	for _, tc := range []struct {
		line []byte
		t    time.Time
	}{{l1, t1}, {l2, t2}} {
		in := c.inputs(datefix.Inputs{FromLine: tc.line})
		if !in.FromKnown || !in.FromOK || !in.FromTime.Equal(tc.t) {
			t.Errorf("%s: known %v ok %v time %v, want %v", tc.line, in.FromKnown, in.FromOK, in.FromTime, tc.t)
		}
	}
	c.put(l3, time.Unix(3, 0)) // evicts l1
	if in := c.inputs(datefix.Inputs{FromLine: l1}); in.FromKnown {
		t.Error("an evicted line is still known")
	}
	if in := c.inputs(datefix.Inputs{FromLine: l3}); !in.FromKnown || !in.FromOK || in.FromTime.Unix() != 3 {
		t.Errorf("l3: known %v ok %v time %v", in.FromKnown, in.FromOK, in.FromTime)
	}
	// the scratch copies must not alias the reader's buffer
	l2[5] = 'X'
	if in := c.inputs(datefix.Inputs{FromLine: []byte("From b Mon Jan  1 00:00:02 2001")}); !in.FromKnown {
		t.Error("the cache kept a reference to the caller's line instead of a copy")
	}
}
