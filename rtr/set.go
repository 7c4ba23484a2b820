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
//
// Memory: each source's set is a sorted slice of 24-byte keys with no
// pointer (rov.PackedVRP; 17 MB for today's ~720k VRPs), replaced, never
// edited, on a change; the union is the one source's slice itself when
// there is one source, and a merged slice of the same keys otherwise.
// (Maps of the same keys cost about 3x that, twice: per source and for the
// union's counts.) The live table holds the union's slice itself rather
// than a copy (Packed).
type Set struct {
	mu      sync.Mutex
	src     map[string]*source
	union   []vkey // sorted; aliases the only source's keys when there is one
	version uint64 // changes of the union or of a source's set
	dis     struct {
		version uint64
		ok      bool
		list    []Disagreement
	}
}

type source struct {
	keys   []vkey // sorted by vkey.Compare, no duplicates; never modified in place
	last   time.Time
	expire time.Duration
}

// Delta is a change of the union: VRPs that entered it (the first source
// announced them) and VRPs that left it (the last source withdrew them),
// sorted by rov.CompareVRP. When every VRP of an Update entered an empty
// union and the Update's Announced is already that list (sorted, no TA,
// as a Client sends them), Announced is the Update's own slice rather than
// a copy (a first load of a full set would otherwise hold two, 40 MB
// each): read only, like the Update.
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
	return &Set{src: map[string]*source{}}
}

// Apply records one Update of u.Source and returns the change of the
// union. A Reset replaces the source's set with u.Announced; an Expired
// update removes the source. A delta that does not fit the source's set (a
// withdrawal of a VRP it lacks, an announcement of one it has) means
// Updates were lost: it is applied as far as it makes sense and reported
// as an error, and the caller should rebuild from a Reset. Within a delta,
// withdrawals apply before announcements, so a VRP withdrawn and announced
// again is in both lists of the Delta when no other source holds it.
//
// Cost: O(n) in the source's set for any change (a merge of sorted
// slices), plus O(m log m) to sort the m VRPs of the Update.
func (s *Set) Apply(u Update) (Delta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d Delta
	if u.Expired {
		if src, ok := s.src[u.Source]; ok {
			delete(s.src, u.Source)
			s.leave(src.keys, &d)
			s.changed()
		}
		return d, nil
	}
	src, ok := s.src[u.Source]
	if !ok {
		src = &source{}
		s.src[u.Source] = src
	}
	src.last, src.expire = u.Time, u.Expire
	var bad int
	var next []vkey
	if u.Reset {
		if sameVRPs(u.held, u.Announced) {
			// The client's set as it sent it (no filter removed any):
			// no sorted copy of the keys to make and compare.
			next = u.held
		} else {
			next, _ = sortedKeys(u.Announced)
			next = u.shared(next)
		}
		var gone, added []vkey
		if len(src.keys) == 0 {
			added = next // a first load: every key is new
		} else {
			// Count, then fill: large slices grow by 1.25x, so appending
			// 700k keys one by one allocates about 5 times their size.
			ng, na := 0, 0
			diffKeys(src.keys, next, func(vkey) { ng++ }, func(vkey) { na++ })
			gone, added = make([]vkey, 0, ng), make([]vkey, 0, na)
			diffKeys(src.keys, next, func(k vkey) { gone = append(gone, k) }, func(k vkey) { added = append(added, k) })
		}
		src.keys = next
		s.leave(gone, &d)
		s.enter(added, u.Announced, u.Reuse, &d)
	} else {
		wd, dupW := sortedKeys(u.Withdrawn)
		ann, dupA := sortedKeys(u.Announced)
		bad = dupW + dupA
		// Withdrawals first: those of VRPs the source lacks are bad.
		var gone []vkey
		mid := make([]vkey, 0, len(src.keys))
		j := 0
		for _, k := range src.keys {
			for j < len(wd) && wd[j].Compare(k) < 0 {
				bad++ // withdrawn, not held
				j++
			}
			if j < len(wd) && wd[j] == k {
				gone = append(gone, k)
				j++
				continue
			}
			mid = append(mid, k)
		}
		bad += len(wd) - j
		// Then announcements: those of VRPs still held are bad.
		var added []vkey
		next = make([]vkey, 0, len(mid)+len(ann))
		i, j := 0, 0
		for i < len(mid) || j < len(ann) {
			switch {
			case j == len(ann) || i < len(mid) && mid[i].Compare(ann[j]) < 0:
				next = append(next, mid[i])
				i++
			case i == len(mid) || mid[i].Compare(ann[j]) > 0:
				next = append(next, ann[j])
				added = append(added, ann[j])
				j++
			default:
				bad++ // announced, already held
				next = append(next, mid[i])
				i++
				j++
			}
		}
		src.keys = u.shared(next)
		s.leave(gone, &d)
		s.enter(added, u.Announced, u.Reuse, &d)
	}
	s.changed()
	if bad > 0 {
		return d, fmt.Errorf("rtr: update of %s serial %d: %d VRPs do not fit the set held (updates lost?)", u.Source, u.Serial, bad)
	}
	return d, nil
}

// shared returns the client's own copy of the source's set (u.held) in
// place of next when the two are equal, so that the set is held once.
func (u *Update) shared(next []vkey) []vkey {
	if u.held != nil && slices.Equal(u.held, next) { // Equal compares the lengths first
		return u.held
	}
	return next
}

// sortedKeys returns the keys of vrps sorted and without duplicates, and
// how many duplicates there were.
func sortedKeys(vrps []rov.VRP) ([]vkey, int) {
	if len(vrps) == 0 {
		return nil, 0
	}
	ks := make([]vkey, len(vrps))
	for i, v := range vrps {
		ks[i] = keyOf(v)
	}
	if !slices.IsSortedFunc(ks, vkey.Compare) {
		slices.SortFunc(ks, vkey.Compare)
	}
	out := slices.Compact(ks)
	return slices.Clip(out), len(ks) - len(out)
}

// diffKeys calls gone for every key of old not in next and added for every
// key of next not in old (both sorted), in order.
func diffKeys(old, next []vkey, gone, added func(vkey)) {
	i, j := 0, 0
	for i < len(old) || j < len(next) {
		switch {
		case j == len(next) || i < len(old) && old[i].Compare(next[j]) < 0:
			gone(old[i])
			i++
		case i == len(old) || old[i].Compare(next[j]) > 0:
			added(next[j])
			j++
		default:
			i++
			j++
		}
	}
}

// heldBy reports whether some source holds k.
func (s *Set) heldBy(k vkey) bool {
	for _, src := range s.src {
		if _, ok := slices.BinarySearchFunc(src.keys, k, vkey.Compare); ok {
			return true
		}
	}
	return false
}

// leave adds to d.Withdrawn the keys (sorted) a source dropped that no
// source holds now.
func (s *Set) leave(keys []vkey, d *Delta) {
	for _, k := range keys {
		if !s.heldBy(k) {
			d.Withdrawn = append(d.Withdrawn, vrpOf(k))
		}
	}
}

// enter adds to d.Announced the keys (sorted) a source took that no other
// source held: those for which the union has no entry yet (s.union is
// still the union before the change). from is the Update's Announced,
// which d.Announced is when every key is new and from lists exactly them
// (see Delta), and whose array it is written into when reuse (see
// Update.Reuse; keys are a copy, so nothing reads from's elements any
// more).
func (s *Set) enter(keys []vkey, from []rov.VRP, reuse bool, d *Delta) {
	if len(s.union) == 0 && sameVRPs(keys, from) {
		d.Announced = slices.Clip(from)
		return
	}
	for i, k := range keys {
		if _, ok := slices.BinarySearchFunc(s.union, k, vkey.Compare); !ok {
			if d.Announced == nil {
				if n := len(keys) - i; reuse && cap(from) >= n { // at most n
					d.Announced = from[:0]
				} else {
					d.Announced = make([]rov.VRP, 0, n)
				}
			}
			d.Announced = append(d.Announced, vrpOf(k))
		}
	}
	d.Announced = slices.Clip(d.Announced)
}

// sameVRPs reports whether vrps are the VRPs of keys, element for element
// (no TA: a key has none; a valid prefix: one packs and unpacks exactly).
func sameVRPs(keys []vkey, vrps []rov.VRP) bool {
	if len(keys) == 0 || len(keys) != len(vrps) {
		return false
	}
	for i := range vrps {
		if vrps[i].TA != "" || !vrps[i].Prefix.IsValid() || keyOf(vrps[i]) != keys[i] {
			return false
		}
	}
	return true
}

// changed recomputes the union after a change of the sources' sets: the
// only source's keys themselves, or a merge of every source's.
func (s *Set) changed() {
	s.version++
	switch len(s.src) {
	case 0:
		s.union = nil
		return
	case 1:
		for _, src := range s.src {
			s.union = src.keys
		}
		return
	}
	n := 0
	for _, src := range s.src {
		n = max(n, len(src.keys))
	}
	var u []vkey
	for _, src := range s.src {
		if u == nil {
			u = src.keys
			continue
		}
		m := make([]vkey, 0, max(n, len(u)))
		i, j := 0, 0
		for i < len(u) || j < len(src.keys) {
			switch {
			case j == len(src.keys) || i < len(u) && u[i].Compare(src.keys[j]) < 0:
				m = append(m, u[i])
				i++
			case i == len(u) || u[i].Compare(src.keys[j]) > 0:
				m = append(m, src.keys[j])
				j++
			default:
				m = append(m, u[i])
				i++
				j++
			}
		}
		u = m
	}
	s.union = slices.Clip(u)
}

// Expire removes every source whose last Update is older than that
// source's Expire interval at now (RFC 8210 §6), returning the sources
// removed (sorted) and the change of the union. Clients expire their own
// data; Expire covers a source whose Client stopped altogether.
func (s *Set) Expire(now time.Time) ([]string, Delta) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []string
	var dropped []vkey
	for name, src := range s.src {
		if src.expire > 0 && !now.Before(src.last.Add(src.expire)) {
			delete(s.src, name)
			gone = append(gone, name)
			dropped = append(dropped, src.keys...)
		}
	}
	var d Delta
	if len(gone) == 0 {
		return nil, d
	}
	slices.Sort(gone)
	slices.SortFunc(dropped, vkey.Compare)
	s.leave(slices.Compact(dropped), &d)
	s.changed()
	return gone, d
}

// Union returns every VRP held by at least one source, once, sorted.
func (s *Set) Union() []rov.VRP {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.union) == 0 {
		return nil
	}
	out := make([]rov.VRP, len(s.union))
	for i, k := range s.union {
		out[i] = vrpOf(k)
	}
	return out
}

// Packed returns the union as the Set holds it: packed VRPs (TA index 0)
// sorted by rov.PackedVRP.Compare, one per (prefix, maxLength, ASN). The
// slice is shared and never modified (a change of the union makes a new
// one), so a holder may keep it as its own read-only copy of the set:
// live.State.ShareVRPs does, so that the union is held once.
func (s *Set) Packed() []rov.PackedVRP {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.union
}

// Sources returns the names of the sources held, sorted.
func (s *Set) Sources() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.names()
}

func (s *Set) names() []string {
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
	return len(s.union)
}

// Disagreements returns the VRPs some sources hold and others do not,
// sorted by VRP; nil when the sources agree (or there is only one). It is
// one linear merge of the sources' sorted sets, done once per change of
// the sets: calls in between share the result, so callers must not modify
// it.
func (s *Set) Disagreements() []Disagreement {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dis.ok && s.dis.version == s.version {
		return s.dis.list
	}
	var out []Disagreement
	if len(s.src) > 1 {
		names := s.names()
		srcs := make([][]vkey, len(names))
		for i, n := range names {
			srcs[i] = s.src[n].keys
		}
		pos := make([]int, len(srcs))
		held := make([]bool, len(srcs))
		for _, k := range s.union {
			all := true
			for i, ks := range srcs {
				held[i] = pos[i] < len(ks) && ks[pos[i]] == k
				if held[i] {
					pos[i]++
				} else {
					all = false
				}
			}
			if all {
				continue
			}
			d := Disagreement{VRP: vrpOf(k)}
			for i, n := range names {
				if held[i] {
					d.In = append(d.In, n)
				} else {
					d.Missing = append(d.Missing, n)
				}
			}
			out = append(out, d)
		}
	}
	s.dis.version, s.dis.ok, s.dis.list = s.version, true, out
	return out
}
