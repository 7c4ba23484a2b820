package live

import (
	"cmp"
	"slices"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/pfxkey"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/rtr"
)

// packSet packs vrps (prefixes masked) into a new slice sorted by
// rov.PackedVRP.Compare with one VRP per (prefix, maxLength, ASN), the
// first one's TA kept; with intern false every TA is left out (index 0:
// withdrawals match by key alone, and their names need not enter the
// table). It runs under vrpMu, which guards s.vrpTAs.
//
// Cost: one pass, plus a sort of each run of VRPs sharing an address when
// the input is in the loaders' canonical order (longer prefixes first
// there, shorter here), or one sort of the whole when it is in no order.
func (s *State) packSet(vrps []rov.VRP, intern bool) []rov.PackedVRP {
	if len(vrps) == 0 {
		return nil
	}
	out := make([]rov.PackedVRP, len(vrps))
	var lastTA string // exports come in runs of one TA: one map lookup a run
	var ta uint8
	for i := range vrps {
		v := &vrps[i]
		if intern && (i == 0 || v.TA != lastTA) {
			ta, lastTA = s.vrpTAs.Intern(v.TA), v.TA
		}
		out[i] = rov.PackVRP(rov.VRP{Prefix: v.Prefix.Masked(), MaxLen: v.MaxLen, ASN: v.ASN}, ta)
	}
	return compactPacked(out)
}

// compactPacked sorts ps (stably: of equal VRPs the first one's TA
// survives) and removes repeats, in place.
func compactPacked(ps []rov.PackedVRP) []rov.PackedVRP {
	if !rov.PackedOrdered(ps) {
		sameAddr := func(a, b *rov.PackedVRP) bool { return a.Fam == b.Fam && a.Hi == b.Hi && a.Lo == b.Lo }
		byAddr := true
		for i := 1; i < len(ps) && byAddr; i++ {
			a, b := &ps[i-1], &ps[i]
			byAddr = a.Fam < b.Fam || a.Fam == b.Fam && (a.Hi < b.Hi || a.Hi == b.Hi && a.Lo <= b.Lo)
		}
		if byAddr {
			for lo := 0; lo < len(ps); {
				hi := lo + 1
				for hi < len(ps) && sameAddr(&ps[lo], &ps[hi]) {
					hi++
				}
				if hi-lo > 1 {
					slices.SortStableFunc(ps[lo:hi], rov.PackedVRP.Compare)
				}
				lo = hi
			}
		} else {
			slices.SortStableFunc(ps, rov.PackedVRP.Compare)
		}
	}
	out := slices.CompactFunc(ps, func(a, b rov.PackedVRP) bool { return a.Compare(b) == 0 })
	return slices.Clip(out)
}

// SetVRPs replaces the whole VRP set (a reloaded file; already merged and
// SLURM-applied) and returns how many routes it re-validated. VRPs are
// identified by (prefix, maxLength, ASN); a duplicate keeps the first one's
// TA, and a VRP whose TA alone changed counts as changed. See UpdateVRPs
// for which routes are re-validated and the cost.
//
// The State keeps its VRPs packed (rov.PackedVRP: 24 bytes and no pointer
// a VRP, the TA an index into a table of names) and makes rov.VRP values
// only where one is reported.
func (s *State) SetVRPs(vrps []rov.VRP) int {
	// The whole set replaced: the set an empty one becomes with vrps
	// announced.
	return s.changeVRPs(func(_, shared []rov.PackedVRP) []rov.PackedVRP { return s.nextSet(nil, vrps, nil, shared) })
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
// Cost: a change rebuilds the rov.Index over the whole set (0.1-0.2 s of
// CPU and 48 MB of short-lived garbage for 723k VRPs, 84 MB on a first
// load, see BenchmarkSetVRPs). The rebuild runs without the State's lock (Apply and
// Snapshot go on; VRP changes wait for each other); the lock is held only
// to re-validate the affected routes and renumber the kept verdicts' VRP
// references (one pass over them): a few milliseconds for an RTR delta or
// a reload on a full table, but about a second for a first load, which
// re-validates half the table. Callers should still coalesce bursts of
// deltas (see Coalesce) rather than apply each as it comes.
func (s *State) UpdateVRPs(announced, withdrawn []rov.VRP) int {
	return s.changeVRPs(func(old, shared []rov.PackedVRP) []rov.PackedVRP {
		return s.nextSet(old, announced, withdrawn, shared)
	})
}

// nextSet returns the set old (sorted, one per key) becomes when the VRPs
// of withdrawn leave it and those of announced enter it, as UpdateVRPs
// says, and is the one place that decides whether the State holds the
// shared set (see ShareVRPs): it returns shared itself when the result
// equals it, found without a copy of the result (without even packing
// announced on a first load of exactly the shared set), and else a slice
// of its own (the packed announcements themselves on a first load).
func (s *State) nextSet(old []rov.PackedVRP, announced, withdrawn []rov.VRP, shared []rov.PackedVRP) []rov.PackedVRP {
	if len(old) == 0 && len(withdrawn) == 0 && samePacked(announced, shared) {
		return shared
	}
	ann, wd := s.packSet(announced, true), s.packSet(withdrawn, false)
	if len(shared) > 0 && mergeWalk(old, ann, wd, equalTo(shared)) {
		return shared
	}
	if len(old) == 0 {
		return ann // withdrawals from an empty set change nothing
	}
	return updated(old, ann, wd)
}

// samePacked reports whether vrps, packed with no TA, are shared element
// for element (shared being strictly increasing, so are they: it is the
// set packSet would make of them).
func samePacked(vrps []rov.VRP, shared []rov.PackedVRP) bool {
	if len(vrps) == 0 || len(vrps) != len(shared) {
		return false
	}
	for i := range vrps {
		v := &vrps[i]
		if v.TA != "" || rov.PackVRP(rov.VRP{Prefix: v.Prefix.Masked(), MaxLen: v.MaxLen, ASN: v.ASN}, 0) != shared[i] {
			return false
		}
	}
	return true
}

// equalTo returns an emit function for mergeWalk that checks the merge
// against want, element for element, to its end.
func equalTo(want []rov.PackedVRP) func(rov.PackedVRP, bool) bool {
	n := 0
	return func(v rov.PackedVRP, last bool) bool {
		if last {
			return n == len(want)
		}
		if n == len(want) || want[n] != v {
			return false
		}
		n++
		return true
	}
}

// ShareVRPs names where the State may find its VRP set already packed: a
// function returning a slice (sorted by rov.PackedVRP.Compare, never
// modified once returned) that is, when nothing changed meanwhile, exactly
// the set a change leaves. watch gives rtr.Set.Packed: its union is the
// State's set whenever no SLURM assertion adds to it. After each change the
// State compares the two (one linear pass) and keeps the shared slice when
// they are equal, so the set is held once, not once by the Set and once by
// the State; when they differ (assertions, TAs, or a change of the union
// not yet applied here) it keeps its own.
func (s *State) ShareVRPs(shared func() []rov.PackedVRP) {
	s.vrpMu.Lock()
	s.shareVRPs = shared
	s.vrpMu.Unlock()
}

// updated returns old without the VRPs of wd and with those of ann (all
// three sorted by rov.PackedVRP.Compare, one per key), matched by
// (prefix, maxLength, ASN), in one merge pass into one new slice.
func updated(old, ann, wd []rov.PackedVRP) []rov.PackedVRP {
	next := make([]rov.PackedVRP, 0, len(old)+len(ann))
	mergeWalk(old, ann, wd, func(v rov.PackedVRP, last bool) bool {
		if !last {
			next = append(next, v)
		}
		return true
	})
	return slices.Clip(next)
}

// mergeWalk calls emit with every VRP of the set updated(old, ann, wd)
// returns, in order, then once with last set; it stops, returning false,
// as soon as emit does, and returns emit's answer to the last call.
func mergeWalk(old, ann, wd []rov.PackedVRP, emit func(v rov.PackedVRP, last bool) bool) bool {
	i, j, k := 0, 0, 0 // old, ann, wd
	for i < len(old) || j < len(ann) {
		if i < len(old) {
			// Skip the withdrawals before old[i]; drop old[i] if withdrawn.
			for k < len(wd) && wd[k].Compare(old[i]) < 0 {
				k++
			}
			if k < len(wd) && wd[k].Compare(old[i]) == 0 {
				k++
				i++
				continue
			}
		}
		var v rov.PackedVRP
		switch {
		case j == len(ann) || i < len(old) && old[i].Compare(ann[j]) < 0:
			v = old[i]
			i++
		case i == len(old) || old[i].Compare(ann[j]) > 0:
			v = ann[j]
			j++
		default: // already present: keep the one held
			v = old[i]
			i++
			j++
		}
		if !emit(v, false) {
			return false
		}
	}
	return emit(rov.PackedVRP{}, true)
}

// changeVRPs makes makeNext(old, shared) (sorted, one per key; shared is
// what ShareVRPs offers, or nil, and makeNext returns it when it is the
// next set: see nextSet) the VRP set: it
// finds the VRPs that entered or left and builds the new index without
// the lock, then, holding it, finds the affected routes, carries every
// kept verdict's VRP references over to the new numbering and re-validates
// the affected routes. vrpMu keeps VRP changes in order, so s.vrps cannot
// change between the two steps; routes that Apply validates in between use
// the old index and are handled like every other route.
func (s *State) changeVRPs(makeNext func(old, shared []rov.PackedVRP) []rov.PackedVRP) int {
	s.vrpMu.Lock()
	defer s.vrpMu.Unlock()
	s.mu.Lock()
	old, live := s.vrps, s.live
	s.mu.Unlock()

	var shared []rov.PackedVRP
	if s.shareVRPs != nil {
		shared = s.shareVRPs()
	}
	next := makeNext(old, shared)
	remap, changed := diffVRPs(old, next)
	if len(changed) == 0 {
		return 0
	}
	tas := s.vrpTAs.Names()
	ix := rov.NewIndexPacked(next, tas)
	var cix *rov.Index // the changed VRPs, when walking the routes is cheaper
	if live > 0 && float64(len(changed)) > s.walkRoutesAbove*float64(live) {
		// (With no routes, the few that Apply may add meanwhile are found
		// through the changed VRPs' prefixes instead.)
		cix = rov.NewIndexPacked(changed, tas)
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
	// While some run in the arena starts with its count (refsOf), the
	// routes' references are renumbered instead, through their routes:
	// garbage is never read again (compaction copies the routes' runs).
	renumber := func(refs []uint32) {
		for k, r := range refs {
			switch {
			case r == noVRP:
			case remap == nil:
				refs[k] = noVRP
			default:
				refs[k] = remap[r]
			}
		}
	}
	if s.escaped == 0 {
		renumber(s.refs)
	} else {
		for id := range s.routes {
			renumber(s.refsOf(&s.routes[id])) // a free route has none
		}
	}
	for _, id := range aff {
		s.validate(id, s.pfx.keys.prefix(s.routes[id].prefix))
	}
	s.maybeCompactRefs()
	s.revalidated += int64(len(aff))
	s.bump()
	return len(aff)
}

// diffVRPs compares two sorted lists: remap[i] is the index in next of
// old[i] (noVRP if it left, or if its TA changed), changed lists the VRPs
// that entered or left, in order. changed is next itself when old is
// empty (a first load: no copy of the whole set); it is read only.
func diffVRPs(old, next []rov.PackedVRP) (remap []uint32, changed []rov.PackedVRP) {
	if len(old) == 0 {
		return nil, next
	}
	remap = make([]uint32, len(old))
	n := 0
	walk := func(emit func(...rov.PackedVRP)) {
		i, j := 0, 0
		for i < len(old) || j < len(next) {
			switch {
			case j == len(next) || i < len(old) && old[i].Compare(next[j]) < 0:
				remap[i] = noVRP
				emit(old[i])
				i++
			case i == len(old) || old[i].Compare(next[j]) > 0:
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
	walk(func(v ...rov.PackedVRP) { n += len(v) })
	if n > 0 {
		changed = make([]rov.PackedVRP, 0, n)
		walk(func(v ...rov.PackedVRP) { changed = append(changed, v...) })
	}
	return remap, changed
}

// affected returns the live routes a change of the VRPs in changed can
// affect (see UpdateVRPs), each once, in id order: by walking the routes
// against cix (an index of changed) when given, else through the changed
// VRPs' prefixes.
func (s *State) affected(changed []rov.PackedVRP, cix *rov.Index) []uint32 {
	var aff []uint32
	if cix != nil {
		var buf []uint32
		for id := range s.routes {
			rt := &s.routes[id]
			if rt.paths == 0 {
				continue
			}
			p := s.pfx.keys.prefix(rt.prefix)
			if buf = cix.Covering(p, buf[:0]); len(buf) > 0 {
				aff = append(aff, uint32(id))
				continue
			}
			if o := rt.origin().WithLocalAS(s.opt.Classify.LocalAS); rt.state() == rov.Invalid && o.Kind == rov.OriginAS && o.ASN != 0 {
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
	for k := range changed {
		v := &changed[k]
		if v.Fam == pfxkey.FamInvalid {
			continue // covers nothing, is inside nothing
		}
		key := v.Key()
		if k > 0 && changed[k-1].Key() == key {
			// Same prefix as the previous one: the routes inside are
			// already in; only the containment rule depends on the ASN.
		} else {
			s.pfx.inside(key, addRoutes)
		}
		if v.ASN == 0 {
			continue
		}
		s.pfx.supernets(key, func(pid uint32) {
			for id := s.pfx.head[pid]; id != noRoute; id = s.routes[id].next {
				rt := &s.routes[id]
				if rt.state() == rov.Invalid && rt.origin().WithLocalAS(s.opt.Classify.LocalAS) == (rov.Origin{Kind: rov.OriginAS, ASN: v.ASN}) {
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
// The results have masked prefixes, one VRP per key, sorted by
// rov.PackedVRP.Compare (rov.CompareVRP's order), so UpdateVRPs packs them
// without a sort.
//
// Cost: one sort of every operation, packed in 32 bytes each (a first
// load of 723k VRPs is one 23 MB slice, where maps of the same cost about
// 25 times that). TAs go through a table of their own, which names at
// most 254 (rov.TATable).
//
// One delta whose lists are each masked and strictly increasing in that
// order (as rtr.Set reports them: a first load is one such delta) is
// returned as it is, less the withdrawals it announces again: no copy of
// a full set. The results may then share the delta's slices: read only.
func Coalesce(deltas ...rtr.Delta) (announced, withdrawn []rov.VRP) {
	if len(deltas) == 1 && keyOrdered(deltas[0].Announced) && keyOrdered(deltas[0].Withdrawn) {
		d := deltas[0]
		return d.Announced, withoutKeys(d.Withdrawn, d.Announced)
	}
	return coalesceOps(deltas)
}

// keyCompare is rov.CompareVRP without the TA: the order of the VRP keys
// (prefix, maxLength, ASN), which is rov.PackedVRP.Compare's.
func keyCompare(a, b rov.VRP) int {
	if c := rov.ComparePrefix(a.Prefix, b.Prefix); c != 0 {
		return c
	}
	if c := cmp.Compare(a.MaxLen, b.MaxLen); c != 0 {
		return c
	}
	return cmp.Compare(a.ASN, b.ASN)
}

// keyOrdered reports whether vrps have valid masked prefixes and strictly
// increasing keys.
func keyOrdered(vrps []rov.VRP) bool {
	for i := range vrps {
		if p := vrps[i].Prefix; !p.IsValid() || p != p.Masked() || i > 0 && keyCompare(vrps[i-1], vrps[i]) >= 0 {
			return false
		}
	}
	return true
}

// withoutKeys returns the VRPs of wd whose key is not in ann (both
// keyOrdered): wd itself when none is.
func withoutKeys(wd, ann []rov.VRP) []rov.VRP {
	var out []rov.VRP
	j := 0
	for i := range wd {
		for j < len(ann) && keyCompare(ann[j], wd[i]) < 0 {
			j++
		}
		if j < len(ann) && keyCompare(ann[j], wd[i]) == 0 {
			if out == nil {
				out = make([]rov.VRP, i, len(wd))
				copy(out, wd[:i])
			}
			continue
		}
		if out != nil {
			out = append(out, wd[i])
		}
	}
	if out == nil {
		return wd
	}
	return out
}

// coalesceOps is Coalesce for any deltas: one sort of every operation.
func coalesceOps(deltas []rtr.Delta) (announced, withdrawn []rov.VRP) {
	type op struct {
		v   rov.PackedVRP
		seq int32 // order of the operation; negative: a withdrawal
	}
	n := 0
	for _, d := range deltas {
		n += len(d.Announced) + len(d.Withdrawn)
	}
	var tas rov.TATable
	ops := make([]op, 0, n)
	var seq int32 = 1
	for _, d := range deltas {
		for _, v := range d.Withdrawn {
			ops = append(ops, op{rov.PackVRP(rov.VRP{Prefix: v.Prefix.Masked(), MaxLen: v.MaxLen, ASN: v.ASN}, tas.Intern(v.TA)), -seq})
			seq++
		}
		for _, v := range d.Announced {
			ops = append(ops, op{rov.PackVRP(rov.VRP{Prefix: v.Prefix.Masked(), MaxLen: v.MaxLen, ASN: v.ASN}, tas.Intern(v.TA)), seq})
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
		if c := a.v.Compare(b.v); c != 0 {
			return c
		}
		return cmp.Compare(abs(b.seq), abs(a.seq))
	})
	na := 0
	for i := range ops {
		if (i == 0 || ops[i-1].v.Compare(ops[i].v) != 0) && ops[i].seq > 0 {
			na++
		}
	}
	if na > 0 {
		announced = make([]rov.VRP, 0, na)
	}
	names := tas.Names()
	for i := range ops {
		if i > 0 && ops[i-1].v.Compare(ops[i].v) == 0 {
			continue
		}
		if ops[i].seq > 0 {
			announced = append(announced, ops[i].v.Unpack(names))
		} else {
			withdrawn = append(withdrawn, ops[i].v.Unpack(names))
		}
	}
	return announced, withdrawn
}
