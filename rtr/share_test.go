package rtr

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/rov"
)

// TestSetSharesClientSet: the Set keeps a client's own copy of its set
// (Update.held) as the source's set whenever the update leaves exactly
// that set, and its own otherwise (a SLURM filter removed VRPs); the union
// it reports, its changes and the disagreements are the same either way.
func TestSetSharesClientSet(t *testing.T) {
	same := func(a, b []vkey) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }
	held1, _ := sortedKeys([]rov.VRP{vA, vB, vC})
	s := NewSet()
	d, err := s.Apply(Update{Source: "a", Reset: true, Announced: []rov.VRP{vC, vA, vB}, Time: t0, held: held1})
	if err != nil || !reflect.DeepEqual(d.Announced, []rov.VRP{vA, vB, vC}) {
		t.Fatalf("reset: %+v %v", d, err)
	}
	if !same(s.src["a"].keys, held1) || !same(s.Packed(), held1) {
		t.Fatal("reset: the Set copied the client's set")
	}
	// A delta: the client's set after it is shared again.
	held2, _ := sortedKeys([]rov.VRP{vA, vC, vD})
	d, err = s.Apply(Update{Source: "a", Withdrawn: []rov.VRP{vB}, Announced: []rov.VRP{vD}, Time: t0, held: held2})
	if err != nil || !reflect.DeepEqual(d.Announced, []rov.VRP{vD}) || !reflect.DeepEqual(d.Withdrawn, []rov.VRP{vB}) {
		t.Fatalf("delta: %+v %v", d, err)
	}
	if !same(s.src["a"].keys, held2) {
		t.Fatal("delta: the Set copied the client's set")
	}
	// Filtered (vD removed before the Set saw it): not the client's set.
	d, err = s.Apply(Update{Source: "a", Reset: true, Announced: []rov.VRP{vA, vC}, Time: t0.Add(time.Second), held: held2})
	if err != nil || !reflect.DeepEqual(d.Withdrawn, []rov.VRP{vD}) || d.Announced != nil {
		t.Fatalf("filtered reset: %+v %v", d, err)
	}
	if same(s.src["a"].keys, held2) || !reflect.DeepEqual(s.Union(), []rov.VRP{vA, vC}) {
		t.Fatalf("filtered reset: holds the client's set %v, union %v", same(s.src["a"].keys, held2), s.Union())
	}
	// A second source: the union is a merge, disagreements as ever.
	held3, _ := sortedKeys([]rov.VRP{vA, vB})
	if _, err := s.Apply(Update{Source: "b", Reset: true, Announced: []rov.VRP{vA, vB}, Time: t0, held: held3}); err != nil {
		t.Fatal(err)
	}
	if !same(s.src["b"].keys, held3) || same(s.Packed(), held3) {
		t.Fatal("two sources: b's set should be the client's, the union a merge")
	}
	if got := s.Union(); !reflect.DeepEqual(got, []rov.VRP{vA, vB, vC}) {
		t.Fatalf("union %v", got)
	}
	want := []Disagreement{{VRP: vB, In: []string{"b"}, Missing: []string{"a"}}, {VRP: vC, In: []string{"a"}, Missing: []string{"b"}}}
	if got := s.Disagreements(); !reflect.DeepEqual(got, want) {
		t.Fatalf("disagreements %+v", got)
	}
	if !slices.IsSortedFunc(s.Packed(), vkey.Compare) {
		t.Fatal("union not sorted")
	}
}

// TestDeltaSharesFirstLoad: a first load into an empty union whose
// Announced is already the sorted, TA-less list (as a Client sends it)
// is the Delta's Announced itself, not a copy; any other (a TA, another
// order, a union not empty) gets its own list, with the same VRPs as ever.
func TestDeltaSharesFirstLoad(t *testing.T) {
	same := func(a, b []rov.VRP) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }
	sorted := []rov.VRP{vA, vB, vC}
	s := NewSet()
	d, err := s.Apply(Update{Source: "a", Reset: true, Announced: sorted, Time: t0})
	if err != nil || !same(d.Announced, sorted) || cap(d.Announced) != len(d.Announced) {
		t.Fatalf("first load: %+v %v, shared %v", d, err, same(d.Announced, sorted))
	}
	// As a Client sends a Reset: the set is its own (held), shared
	// without a sorted copy of the keys.
	held, _ := sortedKeys(sorted)
	s2 := NewSet()
	d2, err := s2.Apply(Update{Source: "a", Reset: true, Announced: sorted, Time: t0, held: held})
	if err != nil || !same(d2.Announced, sorted) || &s2.src["a"].keys[0] != &held[0] || &s2.Packed()[0] != &held[0] {
		t.Fatalf("client reset: %+v %v", d2, err)
	}
	// A second source: the union is not empty; only vD is new.
	d, err = s.Apply(Update{Source: "b", Reset: true, Announced: []rov.VRP{vA, vD}, Time: t0})
	if err != nil || !reflect.DeepEqual(d.Announced, []rov.VRP{vD}) {
		t.Fatalf("second source: %+v %v", d, err)
	}
	withTA := []rov.VRP{vA, vB, vC}
	withTA[1].TA = "ripe"
	for _, ann := range [][]rov.VRP{{vC, vA, vB}, withTA} {
		s := NewSet()
		d, err := s.Apply(Update{Source: "a", Reset: true, Announced: slices.Clone(ann), Time: t0})
		if err != nil || same(d.Announced, ann) || !reflect.DeepEqual(d.Announced, sorted) {
			t.Fatalf("%v: %+v %v", ann, d, err)
		}
		// Handed over (Update.Reuse): the change is written into the
		// Update's array, with the same VRPs.
		given := slices.Clone(ann)
		d, err = NewSet().Apply(Update{Source: "a", Reset: true, Announced: given, Time: t0, Reuse: true})
		if err != nil || !same(d.Announced, given) || !reflect.DeepEqual(d.Announced, sorted) || cap(d.Announced) != len(d.Announced) {
			t.Fatalf("%v handed over: %+v %v", ann, d, err)
		}
	}
	// Handed over into a union not empty: only the new VRPs, in front.
	s = NewSet()
	if _, err := s.Apply(Update{Source: "a", Reset: true, Announced: []rov.VRP{vA}, Time: t0}); err != nil {
		t.Fatal(err)
	}
	given := []rov.VRP{vC, vA, vB}
	d, err = s.Apply(Update{Source: "b", Reset: true, Announced: given, Time: t0, Reuse: true})
	if err != nil || !same(d.Announced, given) || !reflect.DeepEqual(d.Announced, []rov.VRP{vB, vC}) {
		t.Fatalf("handed over, two new: %+v %v", d, err)
	}
}
