package live

import "math/bits"

// peerPaths is one peer's Adj-RIB-In: (prefix id << 32 | path id) ->
// path. A map holds it while the peer is small next to the prefixes
// known; once the peer holds paths for path id 0 (no ADD-PATH) for more
// than half of the prefix ids, those move to an array indexed by prefix
// id with a presence bit per slot: 16 bytes and 1 bit a slot instead of
// a map slot of 24 bytes at the map's load factor (~40 bytes a path), and
// no hashing on the way in. A full-table peer is such a peer; one that
// carries a few thousand prefixes among a million stays in the map. Other
// path ids always stay in the map. Each key is in one of the two.
type peerPaths struct {
	mem     *bigMem // where dense and present live (nil: the Go heap)
	m       map[uint64]pathVal
	dense   []pathVal // by prefix id, path id 0; valid where present
	present []uint64  // bit per dense slot
	nDense  int
}

func newPeerPaths(mem *bigMem) *peerPaths { return &peerPaths{mem: mem, m: map[uint64]pathVal{}} }

// release frees the arrays (the peer is gone; pp must not be used again).
func (pp *peerPaths) release() {
	release(pp.mem, pp.dense)
	release(pp.mem, pp.present)
	pp.dense, pp.present, pp.nDense = nil, nil, 0
}

// len is the number of paths held.
func (pp *peerPaths) len() int {
	if pp == nil {
		return 0
	}
	return len(pp.m) + pp.nDense
}

func (pp *peerPaths) has(pid uint32) bool {
	return int(pid) < len(pp.dense) && pp.present[pid/64]&(1<<(pid%64)) != 0
}

func (pp *peerPaths) get(key uint64) (pathVal, bool) {
	if pid := uint32(key >> 32); uint32(key) == 0 && pp.has(pid) {
		return pp.dense[pid], true
	}
	v, ok := pp.m[key]
	return v, ok
}

// set adds or replaces the path of key; prefixes is the number of prefix
// ids known (the State's), which decides when the array pays.
func (pp *peerPaths) set(key uint64, v pathVal, prefixes int) {
	pid := uint32(key >> 32)
	if uint32(key) == 0 {
		switch {
		case pp.has(pid):
			pp.dense[pid] = v
			return
		case pp.dense != nil:
			// Since densify, no path id 0 is in the map.
			pp.grow(int(pid) + 1)
			pp.put(pid, v)
			return
		}
	}
	pp.m[key] = v
	if pp.dense == nil && len(pp.m) > 4096 && 2*len(pp.m) > prefixes {
		pp.densify(prefixes)
	}
}

func (pp *peerPaths) put(pid uint32, v pathVal) {
	pp.dense[pid] = v
	pp.present[pid/64] |= 1 << (pid % 64)
	pp.nDense++
}

// grow makes the array at least n slots long. Prefixes are learnt one by
// one, so it grows as room does (doubling), not to n: growing by an eighth
// copied the array about eight times its final size during a full table's
// load.
func (pp *peerPaths) grow(n int) {
	if n <= len(pp.dense) {
		return
	}
	pp.dense = bigExtend(pp.mem, pp.dense, n-len(pp.dense))
	if w := (n + 63) / 64; len(pp.present) < w {
		pp.present = bigExtend(pp.mem, pp.present, w-len(pp.present))
	}
}

// densify moves the map's path id 0 entries to the array.
func (pp *peerPaths) densify(prefixes int) {
	pp.dense = bigRoom(pp.mem, []pathVal(nil), prefixes+prefixes/8)
	pp.grow(prefixes)
	for k, v := range pp.m {
		if uint32(k) != 0 {
			continue
		}
		pid := uint32(k >> 32)
		pp.grow(int(pid) + 1)
		pp.put(pid, v)
		delete(pp.m, k)
	}
	// The map kept its size: let a fresh one hold what is left.
	m := make(map[uint64]pathVal, len(pp.m))
	for k, v := range pp.m {
		m[k] = v
	}
	pp.m = m
}

func (pp *peerPaths) del(key uint64) {
	if pid := uint32(key >> 32); uint32(key) == 0 && pp.has(pid) {
		pp.dense[pid] = pathVal{}
		pp.present[pid/64] &^= 1 << (pid % 64)
		pp.nDense--
		return
	}
	delete(pp.m, key)
}

// all calls fn with every path held (in no particular order); fn may
// replace the value of the key it is given (update).
func (pp *peerPaths) all(fn func(key uint64, v pathVal)) {
	if pp == nil {
		return
	}
	for wi, w := range pp.present {
		for w != 0 {
			pid := uint32(wi*64 + bits.TrailingZeros64(w))
			w &= w - 1
			fn(uint64(pid)<<32, pp.dense[pid])
		}
	}
	for k, v := range pp.m {
		fn(k, v)
	}
}

// update replaces the value of a held key (during all).
func (pp *peerPaths) update(key uint64, v pathVal) {
	if pid := uint32(key >> 32); uint32(key) == 0 && pp.has(pid) {
		pp.dense[pid] = v
		return
	}
	pp.m[key] = v
}
