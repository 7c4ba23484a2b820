package rtr

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/rov"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestSet pins the RFC 8210 §10 union and what Set reports about it.
func TestSet(t *testing.T) {
	s := NewSet()
	apply := func(u Update, wantA, wantW []rov.VRP) {
		t.Helper()
		d, err := s.Apply(u)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d.Announced, wantA) || !reflect.DeepEqual(d.Withdrawn, wantW) {
			t.Errorf("%s serial %d: got +%v -%v, want +%v -%v", u.Source, u.Serial, d.Announced, d.Withdrawn, wantA, wantW)
		}
	}
	// Two caches, one a refresh behind: the union holds both.
	apply(Update{Source: "a", Reset: true, Serial: 1, Announced: []rov.VRP{vA, vB}, Time: t0, Expire: time.Hour}, []rov.VRP{vA, vB}, nil)
	apply(Update{Source: "b", Reset: true, Serial: 1, Announced: []rov.VRP{vA, vC}, Time: t0, Expire: 2 * time.Hour}, []rov.VRP{vC}, nil)
	if got, want := s.Union(), []rov.VRP{vA, vB, vC}; !reflect.DeepEqual(got, want) {
		t.Errorf("union: got %v, want %v", got, want)
	}
	wantDis := []Disagreement{
		{VRP: vB, In: []string{"a"}, Missing: []string{"b"}},
		{VRP: vC, In: []string{"b"}, Missing: []string{"a"}},
	}
	if got := s.Disagreements(); !reflect.DeepEqual(got, wantDis) {
		t.Errorf("disagreements: got %+v, want %+v", got, wantDis)
	}
	// A VRP leaves the union only when its last source withdraws it.
	apply(Update{Source: "a", Serial: 2, Withdrawn: []rov.VRP{vA}, Announced: []rov.VRP{vC}, Time: t0.Add(time.Minute), Expire: time.Hour}, nil, nil)
	apply(Update{Source: "b", Serial: 2, Withdrawn: []rov.VRP{vA}, Time: t0, Expire: 2 * time.Hour}, nil, []rov.VRP{vA})
	// A lost Update shows as an error.
	if _, err := s.Apply(Update{Source: "b", Serial: 3, Withdrawn: []rov.VRP{vD}}); err == nil {
		t.Error("withdrawing a VRP the source lacks: got no error")
	}
	// RFC 8210 §6: a source whose data is older than its Expire goes,
	// with only the VRPs no other source holds.
	gone, d := s.Expire(t0.Add(time.Hour + time.Minute))
	if !reflect.DeepEqual(gone, []string{"a"}) || !reflect.DeepEqual(d.Withdrawn, []rov.VRP{vB}) || d.Announced != nil {
		t.Errorf("expire: got %v %+v, want [a] -[%v]", gone, d, vB)
	}
	if got := s.Sources(); !reflect.DeepEqual(got, []string{"b"}) {
		t.Errorf("sources: got %v", got)
	}
	if got := s.Disagreements(); got != nil {
		t.Errorf("one source cannot disagree: got %v", got)
	}
	// An Expired Update from the client removes the source.
	apply(Update{Source: "b", Reset: true, Expired: true, Withdrawn: []rov.VRP{vC}}, nil, []rov.VRP{vC})
	if s.Len() != 0 || len(s.Sources()) != 0 {
		t.Errorf("after expiry: %d VRPs, sources %v", s.Len(), s.Sources())
	}
}

// TestSetOracle drives three sources with random resets and deltas and
// checks, after every step, Union against a brute-force union and the
// accumulated Deltas against the union itself.
func TestSetOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := make([]rov.VRP, 40)
	for i := range pool {
		pool[i] = vrp("10.0.0.0/8", uint8(8+i%5), uint32(i/5))
	}
	names := []string{"a", "b", "c"}
	held := map[string]map[rov.VRP]bool{}
	s := NewSet()
	mirror := map[rov.VRP]bool{} // built only from Deltas
	for step := range 2000 {
		name := names[rng.IntN(len(names))]
		u := Update{Source: name, Serial: uint32(step), Time: t0, Expire: time.Hour}
		cur := held[name]
		if cur == nil || rng.IntN(10) == 0 {
			u.Reset = true
			next := map[rov.VRP]bool{}
			for _, v := range pool {
				if rng.IntN(3) == 0 {
					next[v] = true
					u.Announced = append(u.Announced, v)
				}
			}
			held[name] = next
		} else {
			for _, v := range pool {
				if rng.IntN(8) != 0 {
					continue
				}
				if cur[v] {
					delete(cur, v)
					u.Withdrawn = append(u.Withdrawn, v)
				} else {
					cur[v] = true
					u.Announced = append(u.Announced, v)
				}
			}
		}
		d, err := s.Apply(u)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		for _, v := range d.Withdrawn {
			if !mirror[v] {
				t.Fatalf("step %d: withdrew %v, not in the union", step, v)
			}
			delete(mirror, v)
		}
		for _, v := range d.Announced {
			if mirror[v] {
				t.Fatalf("step %d: announced %v, already in the union", step, v)
			}
			mirror[v] = true
		}
		var want []rov.VRP
		for _, v := range pool {
			for _, n := range names {
				if held[n][v] {
					want = append(want, v)
					break
				}
			}
		}
		slices.SortFunc(want, rov.CompareVRP)
		got := s.Union()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d: union %v, want %v", step, got, want)
		}
		if len(mirror) != len(want) {
			t.Fatalf("step %d: deltas give %d VRPs, union has %d", step, len(mirror), len(want))
		}
		for _, dis := range s.Disagreements() {
			if len(dis.In) == 0 || len(dis.Missing) == 0 || len(dis.In)+len(dis.Missing) != len(held) {
				t.Fatalf("step %d: disagreement %+v", step, dis)
			}
			for _, n := range dis.In {
				if !held[n][dis.VRP] {
					t.Fatalf("step %d: %v said in %s", step, dis.VRP, n)
				}
			}
		}
	}
}
