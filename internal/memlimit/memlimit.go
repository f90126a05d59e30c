// Package memlimit keeps the Go heap small without letting the garbage collector thrash.
//
// A fixed soft memory limit keeps the peak memory of a typical conversion low, but when a
// huge mailbox's per-message bookkeeping (about 100 bytes a message: keys, UIDs) outgrows the
// limit, the collector runs back to back and the conversion slows down several times. So
// the limit follows the live heap: after every collection it is set to the live heap plus
// half of it plus some slack, never below the floor.
package memlimit

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

const (
	liveMetric = "/gc/heap/live:bytes"
	slack      = 4 << 20
)

var (
	mu      sync.Mutex
	floor   int64
	started bool
	sample  = []metrics.Sample{{Name: liveMetric}}
)

// Start sets the soft memory limit to floor and keeps adjusting it after each garbage
// collection, as the package comment says. Calling it again only changes the floor.
func Start(f int64) {
	mu.Lock()
	floor = f
	first := !started
	started = true
	mu.Unlock()
	adjust()
	if first {
		arm()
	}
}

// Limit is the limit adjust would set for a live heap of live bytes.
func Limit(live, floor int64) int64 {
	return max(floor, live+live/2+slack)
}

// adjust sets the limit for the live heap the last collection found.
func adjust() {
	mu.Lock()
	defer mu.Unlock()
	metrics.Read(sample)
	var live int64
	if sample[0].Value.Kind() == metrics.KindUint64 {
		live = int64(sample[0].Value.Uint64())
	}
	debug.SetMemoryLimit(Limit(live, floor))
}

// sentinel is an object nothing refers to: its finalizer runs after the next collection,
// adjusts the limit and arms a new one. It is big enough not to share a tiny block (whose
// finalizer might never run).
type sentinel struct{ _ [32]byte }

func arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		adjust()
		arm()
	})
}
