package live

import (
	"cmp"
	"slices"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/pfxkey"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/rtr"
)

// canonical returns a sorted copy of vrps (masked prefixes) with one VRP
// per (prefix, maxLength, ASN), the first one's TA kept.
func canonical(vrps []rov.VRP) []rov.VRP {
	out := slices.Clone(vrps)
	for i := range out {
		out[i].Prefix = out[i].Prefix.Masked()
	}
	return rov.Canonicalize(out)
}

// isCanonical reports whether vrps is already what canonical would return
// (masked, strictly increasing in rov.CanonicalOrder), as Coalesce's
// results are: then it need not be copied to be read.
func isCanonical(vrps []rov.VRP) bool {
	for i := range vrps {
		if vrps[i].Prefix != vrps[i].Prefix.Masked() || i > 0 && rov.CanonicalOrder(vrps[i-1], vrps[i]) >= 0 {
			return false
		}
	}
	return true
}

// canonicalView is canonical(vrps) for reading only: vrps itself when it is
// canonical already (no copy of a full set on a first load).
func canonicalView(vrps []rov.VRP) []rov.VRP {
	if isCanonical(vrps) {
		return vrps
	}
	return canonical(vrps)
}

// SetVRPs replaces the whole VRP set (a reloaded file; already merged and
// SLURM-applied) and returns how many routes it re-validated. VRPs are
// identified by (prefix, maxLength, ASN); a duplicate keeps the first one's
// TA, and a VRP whose TA alone changed counts as changed. See UpdateVRPs
// for which routes are re-validated and the cost.
func (s *State) SetVRPs(vrps []rov.VRP) int {
	next := canonical(vrps)
	return s.changeVRPs(func([]rov.VRP) []rov.VRP { return next })
}

// UpdateVRPs applies a change of the set (an rtr.Set delta): withdrawn VRPs
// leave it (matched by prefix, maxLength and ASN; absent ones are
// ignored), then announced ones enter it (present ones are ignored). It
// returns how many routes were re-validated.
//
// Only routes a changed VRP can affect are re-validated: RFC 6811 §2
// decides a route from the VRPs covering it, so every route whose prefix
// equals or lies inside the prefix of a VRP that entered or left; and,
// because classify tells TooShort from WrongOrigin by the origin's VRPs
// strictly inside the route (classify.Classifier.Classify rule 3), also the
// Invalid routes strictly containing a changed VRP whose ASN is their
// origin. The routes are found through the changed VRPs (a binary search
// in the sorted prefixes per VRP), or, when the change is large against
// the table (a first load), by walking the routes against an index of the
// changed VRPs.
//
// Cost: a change rebuilds the rov.Index over the whole set (about 0.5 s of
// CPU and 130 MB of short-lived garbage for 723k VRPs, see
// BenchmarkSetVRPs). The rebuild runs without the State's lock (Apply and
// Snapshot go on; VRP changes wait for each other); the lock is held only
// to re-validate the affected routes and renumber the kept verdicts' VRP
// references (one pass over them): a few milliseconds for an RTR delta or
// a reload on a full table, but about a second for a first load, which
// re-validates half the table. Callers should still coalesce bursts of
// deltas (see Coalesce) rather than apply each as it comes.
func (s *State) UpdateVRPs(announced, withdrawn []rov.VRP) int {
	// Read only: updated copies what it keeps.
	ann, wd := canonicalView(announced), canonicalView(withdrawn)
	return s.changeVRPs(func(old []rov.VRP) []rov.VRP { return updated(old, ann, wd) })
}

// updated returns old (canonical) without the VRPs of wd and with those of
// ann (both canonical), matched by (prefix, maxLength, ASN), in one merge
// pass into one new slice.
func updated(old, ann, wd []rov.VRP) []rov.VRP {
	next := make([]rov.VRP, 0, len(old)+len(ann))
	i, j, k := 0, 0, 0 // old, ann, wd
	for i < len(old) || j < len(ann) {
		if i < len(old) {
			// Skip the withdrawals before old[i]; drop old[i] if withdrawn.
			for k < len(wd) && rov.CanonicalOrder(wd[k], old[i]) < 0 {
				k++
			}
			if k < len(wd) && rov.CanonicalOrder(wd[k], old[i]) == 0 {
				k++
				i++
				continue
			}
		}
		switch {
		case j == len(ann) || i < len(old) && rov.CanonicalOrder(old[i], ann[j]) < 0:
			next = append(next, old[i])
			i++
		case i == len(old) || rov.CanonicalOrder(old[i], ann[j]) > 0:
			next = append(next, ann[j])
			j++
		default: // already present: keep the one held
			next = append(next, old[i])
			i++
			j++
		}
	}
	return slices.Clip(next)
}

// changeVRPs makes makeNext(old) (canonical) the VRP set: it finds the
// VRPs that entered or left and builds the new index without the lock,
// then, holding it, finds the affected routes, carries every kept
// verdict's VRP references over to the new numbering and re-validates the
// affected routes. vrpMu keeps VRP changes in order, so s.vrps cannot
// change between the two steps; routes that Apply validates in between use
// the old index and are handled like every other route.
func (s *State) changeVRPs(makeNext func(old []rov.VRP) []rov.VRP) int {
	s.vrpMu.Lock()
	defer s.vrpMu.Unlock()
	s.mu.Lock()
	old, live := s.vrps, s.live
	s.mu.Unlock()

	next := makeNext(old)
	remap, changed := diffVRPs(old, next)
	if len(changed) == 0 {
		return 0
	}
	ix := rov.NewIndex(next)
	var cix *rov.Index // the changed VRPs, when walking the routes is cheaper
	if live > 0 && float64(len(changed)) > s.walkRoutesAbove*float64(live) {
		// (With no routes, the few that Apply may add meanwhile are found
		// through the changed VRPs' prefixes instead.)
		cix = rov.NewIndex(changed)
	}

	if s.beforeInstall != nil {
		s.beforeInstall()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Which routes the change can affect is decided on the old verdicts
	// (the containment rule needs the state before the change).
	aff := s.affected(changed, cix)
	if s.onRevalidate != nil {
		s.onRevalidate(aff)
	}
	s.vrps = next
	s.ix = ix
	s.cls = classify.NewClassifier(s.ix)
	s.indexBuilds++
	// Renumber every reference, garbage included, so that the whole arena
	// always indexes the current list (compaction copies live ones only).
	// A reference to a VRP that left can only belong to a route in aff
	// (that VRP covers it, or is its origin's VRP inside it), which is
	// re-validated below.
	// (With no VRPs before, remap is nil and every reference is noVRP.)
	for k, r := range s.refs {
		switch {
		case r == noVRP:
		case remap == nil:
			s.refs[k] = noVRP
		default:
			s.refs[k] = remap[r]
		}
	}
	for _, id := range aff {
		s.validate(id, s.pfx.keys[s.routes[id].prefix].Prefix())
	}
	s.maybeCompactRefs()
	s.revalidated += int64(len(aff))
	s.bump()
	return len(aff)
}

// diffVRPs compares two canonical lists: remap[i] is the index in next of
// old[i] (noVRP if it left, or if its TA changed), changed lists the VRPs
// that entered or left, in canonical order. changed is next itself when
// old is empty (a first load: no copy of the whole set); it is read only.
func diffVRPs(old, next []rov.VRP) (remap []uint32, changed []rov.VRP) {
	if len(old) == 0 {
		return nil, next
	}
	remap = make([]uint32, len(old))
	n := 0
	walk := func(emit func(...rov.VRP)) {
		i, j := 0, 0
		for i < len(old) || j < len(next) {
			switch {
			case j == len(next) || i < len(old) && rov.CanonicalOrder(old[i], next[j]) < 0:
				remap[i] = noVRP
				emit(old[i])
				i++
			case i == len(old) || rov.CanonicalOrder(old[i], next[j]) > 0:
				emit(next[j])
				j++
			default:
				if old[i].TA != next[j].TA {
					remap[i] = noVRP
					emit(old[i], next[j])
				} else {
					remap[i] = uint32(j)
				}
				i++
				j++
			}
		}
	}
	// Count, then fill: changed is allocated once at its size.
	walk(func(v ...rov.VRP) { n += len(v) })
	if n > 0 {
		changed = make([]rov.VRP, 0, n)
		walk(func(v ...rov.VRP) { changed = append(changed, v...) })
	}
	return remap, changed
}

// affected returns the live routes a change of the VRPs in changed can
// affect (see UpdateVRPs), each once, in id order: by walking the routes
// against cix (an index of changed) when given, else through the changed
// VRPs' prefixes.
func (s *State) affected(changed []rov.VRP, cix *rov.Index) []uint32 {
	var aff []uint32
	if cix != nil {
		var buf []uint32
		for id := range s.routes {
			rt := &s.routes[id]
			if rt.paths == 0 {
				continue
			}
			p := s.pfx.keys[rt.prefix].Prefix()
			if buf = cix.Covering(p, buf[:0]); len(buf) > 0 {
				aff = append(aff, uint32(id))
				continue
			}
			if o := rt.origin.WithLocalAS(s.opt.Classify.LocalAS); rt.state == rov.Invalid && o.Kind == rov.OriginAS && o.ASN != 0 {
				if buf = cix.InsideByASN(p, o.ASN, buf[:0]); len(buf) > 0 {
					aff = append(aff, uint32(id))
				}
			}
		}
		return aff
	}
	s.pfx.merge()
	addRoutes := func(pid uint32) {
		for id := s.pfx.head[pid]; id != noRoute; id = s.routes[id].next {
			aff = append(aff, id)
		}
	}
	for k, v := range changed {
		if k > 0 && changed[k-1].Prefix == v.Prefix {
			// Same prefix as the previous one: the routes inside are
			// already in; only the containment rule depends on the ASN.
		} else {
			s.pfx.inside(pfxkey.Of(v.Prefix), addRoutes)
		}
		if v.ASN == 0 {
			continue
		}
		s.pfx.supernets(pfxkey.Of(v.Prefix), func(pid uint32) {
			for id := s.pfx.head[pid]; id != noRoute; id = s.routes[id].next {
				rt := &s.routes[id]
				if rt.state == rov.Invalid && rt.origin.WithLocalAS(s.opt.Classify.LocalAS) == (rov.Origin{Kind: rov.OriginAS, ASN: v.ASN}) {
					aff = append(aff, id)
				}
			}
		})
	}
	slices.Sort(aff)
	return slices.Compact(aff)
}

// Coalesce folds a sequence of VRP set changes (oldest first, each
// consistent with the set before it, as rtr.Set reports them) into one
// change with the same effect under UpdateVRPs, so that a burst of RTR
// updates costs one index rebuild instead of one per update. Within each
// delta withdrawals come before announcements, as UpdateVRPs applies them
// (a VRP may be in both lists of one delta: withdrawn, then announced
// again). The last operation on each VRP (prefix, maxLength, ASN) wins:
// UpdateVRPs ignores withdrawals of absent VRPs and announcements of
// present ones, so that is the net effect whatever the set held before.
// The results are canonical (masked, sorted by rov.CanonicalOrder, one VRP
// per key), so UpdateVRPs reads them without a copy.
//
// Cost: one sort of every operation, 64 bytes each (a first load of 723k
// VRPs is one 46 MB slice, where maps of the same cost about 12 times
// that).
func Coalesce(deltas ...rtr.Delta) (announced, withdrawn []rov.VRP) {
	type op struct {
		v   rov.VRP
		seq int32 // order of the operation; negative: a withdrawal
	}
	n := 0
	for _, d := range deltas {
		n += len(d.Announced) + len(d.Withdrawn)
	}
	ops := make([]op, 0, n)
	var seq int32 = 1
	for _, d := range deltas {
		for _, v := range d.Withdrawn {
			v.Prefix = v.Prefix.Masked()
			ops = append(ops, op{v, -seq})
			seq++
		}
		for _, v := range d.Announced {
			v.Prefix = v.Prefix.Masked()
			ops = append(ops, op{v, seq})
			seq++
		}
	}
	abs := func(x int32) int32 {
		if x < 0 {
			return -x
		}
		return x
	}
	// By VRP key, the latest operation first.
	slices.SortFunc(ops, func(a, b op) int {
		if c := rov.CanonicalOrder(a.v, b.v); c != 0 {
			return c
		}
		return cmp.Compare(abs(b.seq), abs(a.seq))
	})
	na := 0
	for i := range ops {
		if (i == 0 || rov.CanonicalOrder(ops[i-1].v, ops[i].v) != 0) && ops[i].seq > 0 {
			na++
		}
	}
	if na > 0 {
		announced = make([]rov.VRP, 0, na)
	}
	for i := range ops {
		if i > 0 && rov.CanonicalOrder(ops[i-1].v, ops[i].v) == 0 {
			continue
		}
		if ops[i].seq > 0 {
			announced = append(announced, ops[i].v)
		} else {
			withdrawn = append(withdrawn, ops[i].v)
		}
	}
	return announced, withdrawn
}
