package live

import (
	"net/netip"
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
	ann, wd := canonical(announced), canonical(withdrawn)
	return s.changeVRPs(func(old []rov.VRP) []rov.VRP { return updated(old, ann, wd) })
}

// updated returns old (canonical) without the VRPs of wd and with those of
// ann (both canonical), matched by (prefix, maxLength, ASN).
func updated(old, ann, wd []rov.VRP) []rov.VRP {
	// Drop the withdrawn VRPs (both lists are sorted), then merge in the
	// announced ones.
	kept := make([]rov.VRP, 0, len(old)+len(ann))
	j := 0
	for _, v := range old {
		for j < len(wd) && rov.CanonicalOrder(wd[j], v) < 0 {
			j++
		}
		if j < len(wd) && rov.CanonicalOrder(wd[j], v) == 0 {
			continue
		}
		kept = append(kept, v)
	}
	next := make([]rov.VRP, 0, len(kept)+len(ann))
	i := 0
	j = 0
	for i < len(kept) || j < len(ann) {
		switch {
		case j == len(ann) || i < len(kept) && rov.CanonicalOrder(kept[i], ann[j]) < 0:
			next = append(next, kept[i])
			i++
		case i == len(kept) || rov.CanonicalOrder(kept[i], ann[j]) > 0:
			next = append(next, ann[j])
			j++
		default: // already present: keep the one held
			next = append(next, kept[i])
			i++
			j++
		}
	}
	return next
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
	if float64(len(changed)) > s.walkRoutesAbove*float64(live) {
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
	for k, r := range s.refs {
		if r != noVRP {
			s.refs[k] = remap[r]
		}
	}
	for _, id := range aff {
		s.validate(id, s.pfx.keys[s.routes[id].prefix].Prefix())
	}
	s.maybeCompactRefs()
	s.revalidated += int64(len(aff))
	s.epoch++
	return len(aff)
}

// diffVRPs compares two canonical lists: remap[i] is the index in next of
// old[i] (noVRP if it left, or if its TA changed), changed lists the VRPs
// that entered or left, in canonical order.
func diffVRPs(old, next []rov.VRP) (remap []uint32, changed []rov.VRP) {
	remap = make([]uint32, len(old))
	i, j := 0, 0
	for i < len(old) || j < len(next) {
		switch {
		case j == len(next) || i < len(old) && rov.CanonicalOrder(old[i], next[j]) < 0:
			remap[i] = noVRP
			changed = append(changed, old[i])
			i++
		case i == len(old) || rov.CanonicalOrder(old[i], next[j]) > 0:
			changed = append(changed, next[j])
			j++
		default:
			if old[i].TA != next[j].TA {
				remap[i] = noVRP
				changed = append(changed, old[i], next[j])
			} else {
				remap[i] = uint32(j)
			}
			i++
			j++
		}
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
// (rtr.Set reports a VRP withdrawn and announced again in one update in
// both lists). The last operation on each VRP (prefix, maxLength, ASN)
// wins: UpdateVRPs ignores withdrawals of absent VRPs and announcements of
// present ones, so that is the net effect whatever the set held before.
func Coalesce(deltas ...rtr.Delta) (announced, withdrawn []rov.VRP) {
	type key struct {
		p      netip.Prefix
		maxLen uint8
		asn    uint32
	}
	last := map[key]rov.VRP{}
	ann := map[key]bool{}
	for _, d := range deltas {
		for _, v := range d.Withdrawn {
			k := key{v.Prefix.Masked(), v.MaxLen, v.ASN}
			last[k], ann[k] = v, false
		}
		for _, v := range d.Announced {
			k := key{v.Prefix.Masked(), v.MaxLen, v.ASN}
			last[k], ann[k] = v, true
		}
	}
	for k, v := range last {
		if ann[k] {
			announced = append(announced, v)
		} else {
			withdrawn = append(withdrawn, v)
		}
	}
	slices.SortFunc(announced, rov.CanonicalOrder)
	slices.SortFunc(withdrawn, rov.CanonicalOrder)
	return announced, withdrawn
}
