// Package kmerge merges sorted runs with a binary heap: the one k-way
// merge behind the sorted dumps of mrt.RIB.All and live.State.Paths, which
// hold each peer's paths apart and yield them all in (prefix, peer, path
// id) order.
package kmerge

import "iter"

// All yields every element of runs with the index of its run. Each run
// must be sorted; across runs, elements come in cmp order, and elements
// that cmp finds equal come in run order (a run's own elements stay in
// their order). Empty runs are allowed. runs is not modified, though the
// caller must not change it during the iteration.
//
// Cost: O(n log k) for n elements in k runs, one allocation of k cursors.
func All[T any](runs [][]T, cmp func(a, b T) int) iter.Seq2[int, T] {
	return func(yield func(int, T) bool) {
		type cursor struct {
			run  int
			rest []T
		}
		h := make([]cursor, 0, len(runs))
		for i, r := range runs {
			if len(r) > 0 {
				h = append(h, cursor{i, r})
			}
		}
		less := func(a, b *cursor) bool {
			if c := cmp(a.rest[0], b.rest[0]); c != 0 {
				return c < 0
			}
			return a.run < b.run
		}
		down := func(i int) {
			for {
				l := 2*i + 1
				if l >= len(h) {
					return
				}
				m := l
				if r := l + 1; r < len(h) && less(&h[r], &h[l]) {
					m = r
				}
				if !less(&h[m], &h[i]) {
					return
				}
				h[i], h[m] = h[m], h[i]
				i = m
			}
		}
		for i := len(h)/2 - 1; i >= 0; i-- {
			down(i)
		}
		for len(h) > 0 {
			c := &h[0]
			if !yield(c.run, c.rest[0]) {
				return
			}
			c.rest = c.rest[1:]
			if len(c.rest) == 0 {
				h[0] = h[len(h)-1]
				h = h[:len(h)-1]
			}
			down(0)
		}
	}
}
