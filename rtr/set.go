package rtr

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rovimpact/rovimpact/rov"
)

// Set combines the VRPs of several caches. RFC 8210 §10: "a router ... MAY
// use the union of the data from all caches"; the union is what ROV uses,
// while each source's own set is kept so that Disagreements can show where
// caches differ (they often do for a while, as one refreshes before
// another) and a source that goes away takes only its own VRPs with it.
//
// Set is safe for concurrent use. Apply and Expire return the change of the
// union, so a consumer re-validates only the routes that change can affect.
type Set struct {
	mu    sync.Mutex
	src   map[string]*source
	count map[vkey]uint32 // sources holding each VRP of the union
}

type source struct {
	vrps   map[vkey]struct{}
	last   time.Time
	expire time.Duration
}

// Delta is a change of the union: VRPs that entered it (the first source
// announced them) and VRPs that left it (the last source withdrew them),
// sorted by rov.CompareVRP.
type Delta struct {
	Announced []rov.VRP
	Withdrawn []rov.VRP
}

// Empty reports whether the union did not change.
func (d Delta) Empty() bool { return len(d.Announced) == 0 && len(d.Withdrawn) == 0 }

// Disagreement is a VRP that some sources have and others lack.
type Disagreement struct {
	VRP     rov.VRP
	In      []string // sources holding it, sorted
	Missing []string // sources lacking it, sorted
}

// NewSet returns an empty Set.
func NewSet() *Set {
	return &Set{src: map[string]*source{}, count: map[vkey]uint32{}}
}

// Apply records one Update of u.Source and returns the change of the
// union. A Reset replaces the source's set with u.Announced; an Expired
// update removes the source. A delta that does not fit the source's set (a
// withdrawal of a VRP it lacks, an announcement of one it has) means
// Updates were lost: it is applied as far as it makes sense and reported
// as an error, and the caller should rebuild from a Reset.
func (s *Set) Apply(u Update) (Delta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d Delta
	if u.Expired {
		if src, ok := s.src[u.Source]; ok {
			for k := range src.vrps {
				s.remove(k, &d)
			}
			delete(s.src, u.Source)
		}
		sortDelta(&d)
		return d, nil
	}
	src, ok := s.src[u.Source]
	if !ok {
		src = &source{vrps: map[vkey]struct{}{}}
		s.src[u.Source] = src
	}
	src.last, src.expire = u.Time, u.Expire
	var bad int
	if u.Reset {
		next := make(map[vkey]struct{}, len(u.Announced))
		for _, v := range u.Announced {
			next[keyOf(v)] = struct{}{}
		}
		for k := range src.vrps {
			if _, ok := next[k]; !ok {
				s.remove(k, &d)
			}
		}
		for k := range next {
			if _, ok := src.vrps[k]; !ok {
				s.add(k, &d)
			}
		}
		src.vrps = next
	} else {
		for _, v := range u.Withdrawn {
			k := keyOf(v)
			if _, ok := src.vrps[k]; !ok {
				bad++
				continue
			}
			delete(src.vrps, k)
			s.remove(k, &d)
		}
		for _, v := range u.Announced {
			k := keyOf(v)
			if _, ok := src.vrps[k]; ok {
				bad++
				continue
			}
			src.vrps[k] = struct{}{}
			s.add(k, &d)
		}
	}
	sortDelta(&d)
	if bad > 0 {
		return d, fmt.Errorf("rtr: update of %s serial %d: %d VRPs do not fit the set held (updates lost?)", u.Source, u.Serial, bad)
	}
	return d, nil
}

func (s *Set) add(k vkey, d *Delta) {
	s.count[k]++
	if s.count[k] == 1 {
		d.Announced = append(d.Announced, k.vrp())
	}
}

func (s *Set) remove(k vkey, d *Delta) {
	if s.count[k] <= 1 {
		delete(s.count, k)
		d.Withdrawn = append(d.Withdrawn, k.vrp())
		return
	}
	s.count[k]--
}

func sortDelta(d *Delta) {
	slices.SortFunc(d.Announced, rov.CompareVRP)
	slices.SortFunc(d.Withdrawn, rov.CompareVRP)
}

// Expire removes every source whose last Update is older than that
// source's Expire interval at now (RFC 8210 §6), returning the sources
// removed (sorted) and the change of the union. Clients expire their own
// data; Expire covers a source whose Client stopped altogether.
func (s *Set) Expire(now time.Time) ([]string, Delta) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []string
	var d Delta
	for name, src := range s.src {
		if src.expire > 0 && !now.Before(src.last.Add(src.expire)) {
			for k := range src.vrps {
				s.remove(k, &d)
			}
			delete(s.src, name)
			gone = append(gone, name)
		}
	}
	slices.Sort(gone)
	sortDelta(&d)
	return gone, d
}

// Union returns every VRP held by at least one source, once, sorted.
func (s *Set) Union() []rov.VRP {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedVRPs(s.count)
}

// Sources returns the names of the sources held, sorted.
func (s *Set) Sources() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.src))
	for n := range s.src {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Len returns the number of distinct VRPs in the union.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.count)
}

// Disagreements returns the VRPs some sources hold and others do not,
// sorted by VRP; nil when the sources agree (or there is only one). It is
// O(union) and allocates only for the disagreements.
func (s *Set) Disagreements() []Disagreement {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := uint32(len(s.src))
	names := make([]string, 0, n)
	for name := range s.src {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []Disagreement
	for k, c := range s.count {
		if c == n {
			continue
		}
		d := Disagreement{VRP: k.vrp()}
		for _, name := range names {
			if _, ok := s.src[name].vrps[k]; ok {
				d.In = append(d.In, name)
			} else {
				d.Missing = append(d.Missing, name)
			}
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Disagreement) int { return rov.CompareVRP(a.VRP, b.VRP) })
	return out
}
