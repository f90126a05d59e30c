package memlimit

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestLimit(t *testing.T) {
	for _, c := range []struct{ live, floor, want int64 }{
		{0, 28 << 20, 28 << 20},
		{10 << 20, 28 << 20, 28 << 20},
		{60 << 20, 28 << 20, 90<<20 + slack},
	} {
		if got := Limit(c.live, c.floor); got != c.want {
			t.Errorf("Limit(%d, %d) = %d, want %d", c.live, c.floor, got, c.want)
		}
	}
}

// When the live heap outgrows the floor, the limit follows it up after a collection, and
// comes back down to the floor once the memory is free again.
func TestLimitFollowsLiveHeap(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	const floor = 8 << 20
	Start(floor)
	if got := debug.SetMemoryLimit(-1); got < floor {
		t.Fatalf("limit %d after Start, want at least the floor %d", got, floor)
	}
	func() {
		live := make([][]byte, 0, 64)
		for i := 0; i < 64; i++ {
			live = append(live, make([]byte, 1<<20)) // 64 MiB live
		}
		waitLimit(t, func(l int64) bool { return l >= 64<<20+32<<20 }, "raised above 1.5 × 64 MiB")
		runtime.KeepAlive(live)
	}()
	waitLimit(t, func(l int64) bool { return l < 64<<20 }, "lowered again")
}

func waitLimit(t *testing.T, ok func(int64) bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the finalizer runs in its own goroutine
		l := debug.SetMemoryLimit(-1)
		if ok(l) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("memory limit %d MiB not %s", l>>20, what)
		}
	}
}
