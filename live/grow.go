package live

import "slices"

// room returns s with capacity for n more elements. Past 4096 elements it
// doubles the capacity instead of letting append grow it by the runtime's
// 1.25x: the table's arrays (routes, peer bits, prefix keys, deciding VRP
// references, a peer's paths) grow one element at a time while a full
// table arrives, and at 1.25x they are copied about four times their final
// size, each copy into freshly faulted pages. On a full table from bird2
// that copying was a fifth of watch's CPU during the load (bench/README.md).
// Doubling copies at most the final size once; the untouched half of a
// fresh allocation is address space, not resident memory.
func room[S ~[]E, E any](s S, n int) S {
	if cap(s)-len(s) >= n || len(s) < 4096 {
		return slices.Grow(s, n)
	}
	t := make(S, len(s), max(2*cap(s), len(s)+n))
	copy(t, s)
	return t
}

// extend returns s lengthened by n zero elements, its capacity grown as
// room grows it.
func extend[S ~[]E, E any](s S, n int) S {
	k := len(s)
	s = room(s, n)[:k+n]
	clear(s[k:])
	return s
}
