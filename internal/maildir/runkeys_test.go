package maildir

import (
	"sync"
	"testing"
)

// runKeys behaves as one map under one lock would, whatever shard a key falls into: claim,
// commit, forget and drop, also from several goroutines at once.
func TestRunKeys(t *testing.T) {
	r := newRunKeys()
	keys := make([]Key, 64)
	for i := range keys {
		keys[i] = keyOf(string(rune('a'+i%26))+string(rune('0'+i/26)), 0) // spread over the shards
	}
	shards := map[*runShard]bool{}
	for _, k := range keys {
		shards[r.shard(k)] = true
	}
	if len(shards) < 8 {
		t.Errorf("64 keys fell into %d of 16 shards", len(shards))
	}
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r.claim(k, false) {
				t.Errorf("%v: taken at its first claim", k)
			}
		}()
	}
	wg.Wait()
	for _, k := range keys {
		if !r.claim(k, false) || r.state(k) != keyClaimed {
			t.Fatalf("%v: not taken after its claim (state %d)", k, r.state(k))
		}
	}
	k, other := keys[0], keyOf("never claimed", 0)
	if r.claim(other, true) || r.state(other) != 0 {
		t.Errorf("a found key was taken for the run by claim (state %d); only hold does that", r.state(other))
	}
	r.hold(other)
	if r.state(other) != keyClaimed {
		t.Errorf("hold: state %d", r.state(other))
	}
	if dup, closed := r.commit(k); dup || closed {
		t.Errorf("first commit: dup %v closed %v", dup, closed)
	}
	if dup, _ := r.commit(k); !dup || r.state(k) != keyCommitted {
		t.Errorf("second commit: dup %v, state %d", dup, r.state(k))
	}
	r.forget(k)
	if r.state(k) != 0 || r.claim(k, false) {
		t.Errorf("forgotten key: state %d", r.state(k))
	}
	r.drop()
	if dup, closed := r.commit(keys[1]); dup || !closed {
		t.Errorf("commit after drop: dup %v closed %v, want closed", dup, closed)
	}
	r.hold(k) // no panic on a dropped map
	if r.claim(keys[2], false) || r.state(keys[2]) != 0 {
		t.Error("a dropped run still holds keys")
	}
}
