package kmerge

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAllMatchesSort checks All against a stable sort of the runs'
// concatenation: elements by cmp, ties in run order, a run's own order
// kept.
func TestAllMatchesSort(t *testing.T) {
	type el struct{ key, seq int }
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		runs := make([][]el, rng.IntN(7))
		var want []struct{ run, key, seq int }
		seq := 0
		for i := range runs {
			n := rng.IntN(6)
			for range n {
				runs[i] = append(runs[i], el{rng.IntN(5), seq})
				seq++
			}
			slices.SortStableFunc(runs[i], func(a, b el) int { return cmp.Compare(a.key, b.key) })
			for _, e := range runs[i] {
				want = append(want, struct{ run, key, seq int }{i, e.key, e.seq})
			}
		}
		slices.SortStableFunc(want, func(a, b struct{ run, key, seq int }) int { return cmp.Compare(a.key, b.key) })
		var got []struct{ run, key, seq int }
		for run, e := range All(runs, func(a, b el) int { return cmp.Compare(a.key, b.key) }) {
			got = append(got, struct{ run, key, seq int }{run, e.key, e.seq})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: got %v, want %v", trial, got, want)
		}
	}
}

// TestAllStops checks that the merge ends when yield returns false.
func TestAllStops(t *testing.T) {
	n := 0
	for range All([][]int{{1, 2, 3}, {1, 2}}, cmp.Compare[int]) {
		if n++; n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("yielded %d after break", n)
	}
}
