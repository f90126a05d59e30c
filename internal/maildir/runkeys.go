package maildir

import "sync"

// runKeys are the keys of a Writer's run, claimed or committed, in shards with a lock each:
// the converter's reader claims a key per message while the writers commit theirs, which
// are nearly always other keys, so with one lock per shard they seldom wait for each other.
type runKeys struct {
	shards [16]runShard
}

type runShard struct {
	mu sync.Mutex
	m  map[Key]keyState // nil once the writer is closed
	_  [48]byte         // a cache line of its own
}

func newRunKeys() *runKeys {
	r := &runKeys{}
	for i := range r.shards {
		r.shards[i].m = map[Key]keyState{}
	}
	return r
}

// shard picks by the low byte of the content's CRC-32C, which is evenly spread.
func (r *runKeys) shard(k Key) *runShard { return &r.shards[k.Hash[3]&15] }

// claim takes k for a message unless this run has it already (taken) or, found (at Open),
// it is left for the caller to compare.
func (r *runKeys) claim(k Key, found bool) (taken bool) {
	s := r.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if found || s.m == nil {
		_, ok := s.m[k]
		return ok
	}
	// one look-up, not two: |= inserts k as claimed, or leaves its state as it is (every
	// state has the claimed bit); the map grew exactly when k was new
	n := len(s.m)
	s.m[k] |= keyClaimed
	return len(s.m) == n
}

// hold takes k (found at Open) for this run, unless it has it already.
func (r *runKeys) hold(k Key) {
	s := r.shard(k)
	s.mu.Lock()
	if _, ok := s.m[k]; !ok && s.m != nil {
		s.m[k] = keyClaimed
	}
	s.mu.Unlock()
}

func (r *runKeys) state(k Key) keyState {
	s := r.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k]
}

// commit marks k committed unless it was committed before (dup) or the writer is closed.
func (r *runKeys) commit(k Key) (dup, closed bool) {
	s := r.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.m == nil:
		return false, true
	case s.m[k] == keyCommitted:
		return true, false
	}
	s.m[k] = keyCommitted
	return false, false
}

// forget drops k: its message was not delivered after all.
func (r *runKeys) forget(k Key) {
	s := r.shard(k)
	s.mu.Lock()
	delete(s.m, k)
	s.mu.Unlock()
}

// drop frees the keys of a closed writer; commit refuses keys afterwards.
func (r *runKeys) drop() {
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		s.m = nil
		s.mu.Unlock()
	}
}
