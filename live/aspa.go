package live

import (
	"net/netip"
	"slices"

	"github.com/rovimpact/rovimpact/classify"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// ASPA path verification of the held paths (draft-ietf-sidrops-aspa-
// verification, rov.ASPAVerifier; impact by classify.AnalyzeASPA, as
// `rovimpact aspa` decides them). Each path is verified with its peer's AS
// as the neighbour AS and the peer's role from the RoleMap when it is
// announced, and again when it is replaced, withdrawn or flushed, to take
// its verdict back out of the counts: no verdict is stored per path (the
// interned AS path, the peer and the set decide it), so the only memory
// ASPA adds is 4 bytes a route (its paths by state) while a set is in
// use. The invariant, held by the tests against a recount: the counts are
// those of every held path verified against the current set.
//
// A new set re-verifies only the held paths that contain a customer AS
// whose entry changed (rov.ChangedCustomers): the other paths' outcomes
// cannot change, since verification reads the set only as authorized(x,
// y) for ASes x of the path. The interned AS paths are scanned once to
// mark those containing such a customer (a bitset, one bit per interned
// path), then each peer's paths are walked and only the marked ones
// verified, twice (old and new set).

// aspaLive is the State's ASPA part; the zero value is "no ASPA set": no
// path is verified, and snapshots carry no ASPA verdict.
type aspaLive struct {
	set   *rov.ASPASet
	v     *rov.ASPAVerifier
	roles classify.RoleMap
	seg   []rov.Segment // scratch for decoding an interned AS path
	paths [4]int64      // held paths by rov.ASPAState
	// reasons counts the invalid held paths by rov.ASPAReason.
	reasons [8]int64
	// counts is, by route id, its paths by rov.ASPAState, a byte each:
	// nearly every route has a path or two per peer. A route with 255 or
	// more paths in some state (hundreds of peers) is wideMark there, its
	// counts in wide. 4 bytes a route instead of 16.
	counts [][4]uint8
	wide   map[uint32][4]uint32

	sets       int64 // SetASPA calls that changed the set
	reverified int64 // paths verified again by set changes, cumulative
}

// MaxASPAChanges bounds ASPAUpdate.Changes: beyond it only counts are kept.
const MaxASPAChanges = 1000

// ASPAPathChange is one held path whose verdict entered or left
// rov.ASPAInvalid when the set changed.
type ASPAPathChange struct {
	Prefix   netip.Prefix
	Origin   rov.Origin
	Peer     bgp.PeerKey
	Old, New rov.ASPAState
	// Result is the new verification, with the hop that failed (Up, and
	// Down for downstream paths) when New is Invalid.
	Result rov.ASPAResult
}

// ASPAUpdate says what SetASPA did.
type ASPAUpdate struct {
	// First: the table had no set before; every held path was verified.
	First bool
	// Customers whose entry changed (rov.ChangedCustomers).
	Customers int
	// Reverified counts the held paths verified against the new set: all
	// of them when First, else those containing a changed customer.
	Reverified int
	// Changes are the paths that entered or left Invalid (not listed when
	// First), at most MaxASPAChanges; Became and Left count them all.
	Changes      []ASPAPathChange
	Became, Left int
}

// SetASPA makes set the ASPA data the held paths are verified against,
// with each peer's role from roles (read for every verification, so a
// peer's role follows the map; the map must not change afterwards). A nil
// set stops verification and clears the counts. roles is taken on the
// first call (or after a nil set) and kept while a set is in use.
func (s *State) SetASPA(set *rov.ASPASet, roles classify.RoleMap) ASPAUpdate {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &s.aspa
	var up ASPAUpdate
	if set == nil {
		if a.set != nil {
			release(s.mem, a.counts)
			*a = aspaLive{sets: a.sets + 1, reverified: a.reverified}
			s.bump()
		}
		return up
	}
	if a.set == nil {
		a.set, a.v, a.roles = set, rov.NewASPAVerifier(set), roles
		release(s.mem, a.counts)
		a.paths, a.counts, a.wide = [4]int64{}, bigMake[[][4]uint8](s.mem, len(s.routes)), nil
		up.First, up.Customers = true, set.Len()
		for pi := range s.peers {
			s.peers[pi].paths.all(func(_ uint64, v pathVal) {
				s.aspaCount(v.route, s.aspaVerify(uint32(pi), v), 1)
				up.Reverified++
			})
		}
		a.sets++
		a.reverified += int64(up.Reverified)
		s.bump()
		return up
	}
	changed := rov.ChangedCustomers(a.set, set)
	up.Customers = len(changed)
	if len(changed) == 0 {
		a.set, a.v = set, rov.NewASPAVerifier(set)
		return up
	}
	marked := s.pathsWith(changed)
	oldV, newV := a.v, rov.NewASPAVerifier(set)
	for pi := range s.peers {
		p := &s.peers[pi]
		p.paths.all(func(k uint64, v pathVal) {
			if v.path >= uint32(len(marked))*64 || marked[v.path/64]&(1<<(v.path%64)) == 0 {
				return
			}
			a.v = oldV
			old := s.aspaVerify(uint32(pi), v)
			a.v = newV
			res := s.aspaVerify(uint32(pi), v)
			was, now := old.State, res.State
			up.Reverified++
			if was == now && old.Reason == res.Reason {
				return
			}
			s.aspaCount(v.route, old, -1)
			s.aspaCount(v.route, res, 1)
			if was == now {
				return
			}
			if (was == rov.ASPAInvalid) == (now == rov.ASPAInvalid) {
				return
			}
			if now == rov.ASPAInvalid {
				up.Became++
			} else {
				up.Left++
			}
			if len(up.Changes) < MaxASPAChanges {
				rt := &s.routes[v.route]
				up.Changes = append(up.Changes, ASPAPathChange{Prefix: s.pfx.keys.prefix(uint32(k >> 32)),
					Origin: rt.origin().WithLocalAS(s.opt.Classify.LocalAS), Peer: p.key, Old: was, New: now, Result: res})
			}
		})
	}
	a.set, a.v = set, newV
	a.sets++
	a.reverified += int64(up.Reverified)
	s.bump()
	return up
}

// pathsWith marks, one bit per interned AS path id, the paths holding one
// of the ASes in sorted.
func (s *State) pathsWith(sorted []uint32) []uint64 {
	n, _ := s.attrs.Paths()
	marked := make([]uint64, (n+63)/64)
	for id := range n {
		s.aspa.seg = s.attrs.DecodePath(s.aspa.seg, uint32(id))
	seg:
		for _, sg := range s.aspa.seg {
			for _, as := range sg.ASNs {
				if _, ok := slices.BinarySearch(sorted, as); ok {
					marked[id/64] |= 1 << (id % 64)
					break seg
				}
			}
		}
	}
	return marked
}

// aspaVerify verifies held path v of peer slot pi against the current
// verifier (s.mu held, a set in use).
func (s *State) aspaVerify(pi uint32, v pathVal) rov.ASPAResult {
	a := &s.aspa
	a.seg = s.attrs.DecodePath(a.seg, v.path)
	k := s.peers[pi].key
	role, _ := a.roles.Role(k)
	return a.v.Verify(a.seg, k.AS, role)
}

// aspaCount adds d paths of res's state to route rid (and, when Invalid,
// to the count of its reason).
func (s *State) aspaCount(rid uint32, res rov.ASPAResult, d int) {
	st := res.State
	if st == rov.ASPAInvalid && int(res.Reason) < len(s.aspa.reasons) {
		s.aspa.reasons[res.Reason] += int64(d)
	}
	a := &s.aspa
	if int(rid) >= len(a.counts) {
		// Grown with s.routes: routes are numbered densely, so this adds
		// one element (doubling the capacity when full).
		a.counts = bigExtend(s.mem, a.counts, max(int(rid)+1, len(s.routes))-len(a.counts))
	}
	a.paths[st] += int64(d)
	c := &a.counts[rid]
	if *c == wideMark {
		w := a.wide[rid]
		w[st] = uint32(int64(w[st]) + int64(d))
		if w == ([4]uint32{}) {
			delete(a.wide, rid) // the route's paths are gone: narrow again
			*c = [4]uint8{}
		} else {
			a.wide[rid] = w
		}
		return
	}
	if n := int(c[st]) + d; n >= 0 && n < 255 {
		c[st] = uint8(n)
		return
	}
	// 255 paths of one state: the route's counts move to wide.
	w := [4]uint32{uint32(c[0]), uint32(c[1]), uint32(c[2]), uint32(c[3])}
	w[st] = uint32(int64(w[st]) + int64(d))
	if a.wide == nil {
		a.wide = map[uint32][4]uint32{}
	}
	a.wide[rid] = w
	*c = wideMark
}

// wideMark marks a route whose ASPA counts are in aspaLive.wide.
var wideMark = [4]uint8{255, 255, 255, 255}

// routeCounts returns route rid's paths by rov.ASPAState.
func (a *aspaLive) routeCounts(rid int) [4]uint32 {
	if rid >= len(a.counts) {
		return [4]uint32{}
	}
	c := a.counts[rid]
	if c == wideMark {
		return a.wide[uint32(rid)]
	}
	return [4]uint32{uint32(c[0]), uint32(c[1]), uint32(c[2]), uint32(c[3])}
}

// aspaAdd counts held path v of peer pi (just stored); aspaDrop takes it
// back out before it is replaced, withdrawn or flushed. Both do nothing
// while no set is in use.
func (s *State) aspaAdd(pi uint32, v pathVal) {
	if s.aspa.set != nil {
		s.aspaCount(v.route, s.aspaVerify(pi, v), 1)
	}
}

func (s *State) aspaDrop(pi uint32, v pathVal) {
	if s.aspa.set != nil {
		s.aspaCount(v.route, s.aspaVerify(pi, v), -1)
	}
}

// ASPAStats is the ASPA part of Stats.
type ASPAStats struct {
	On         bool     // a set is in use
	Customers  int      // customer ASes with an entry
	ASPAs      int      // ASPAs the set was built from
	Paths      [4]int64 // held paths by rov.ASPAState
	Sets       int64    // set changes applied
	Reverified int64    // paths re-verified by set changes, cumulative
}

// ASPAStats returns the ASPA counters (cost: constant).
func (s *State) ASPAStats() ASPAStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &s.aspa
	st := ASPAStats{On: a.set != nil, Paths: a.paths, Sets: a.sets, Reverified: a.reverified}
	if a.set != nil {
		st.Customers, st.ASPAs = a.set.Len(), a.set.ASPAs()
	}
	return st
}

// SnapshotASPA is a snapshot's ASPA verdicts, summed: classify.AnalyzeASPA's
// combination of ROV and ASPA over the snapshot's routes, counted as
// `rovimpact aspa` counts them in its summary (reports.BuildASPA). Only
// the counts are kept, not the per-route verdicts and their coverage index
// (about 100 bytes a path on a full table), so a snapshot kept for serving
// costs no more with ASPA than without.
type SnapshotASPA struct {
	ASPAs, Customers int
	Paths            [4]int64 // by rov.ASPAState
	// InvalidBy counts the invalid paths by the step that decided
	// (rov.ASPAReason), those with any.
	InvalidBy map[rov.ASPAReason]int64
	Matrix    [3][4]int64 // paths by rov.State and rov.ASPAState
	// Routes dropped by ROV, by ASPA alone (ROV keeps the route, every path
	// is ASPA-invalid), and routes with some path ASPA-invalid but one
	// surviving.
	RoutesDroppedROV, RoutesDroppedASPA, RoutesPartlyASPA int
	// Impact counts the routes ASPA alone drops by classify.Impact.
	Impact map[classify.Impact]int
	// Prefixes left without a surviving route, and of those, the ones ROV
	// alone would have kept.
	PrefixesLost, PrefixesLostByASPA int
}

// aspaCopy appends route id's counts to dst when a set is in use (s.mu
// held; snapshotCopy calls it per live route, in its order).
func (s *State) aspaCopy(dst [][4]uint32, id int) [][4]uint32 {
	if s.aspa.set == nil {
		return dst
	}
	return append(dst, s.aspa.routeCounts(id))
}

// snapshotASPA sums the snapshot's ASPA verdicts from the copied counts
// (counts[i] for c.routes[i]), ord mapping snapshot route j to copy index
// uint32(ord[j]). The snapshot's routes are in prefix order, so a prefix's
// routes are consecutive.
func snapshotASPA(set *rov.ASPASet, counts [][4]uint32, reasons [8]int64, ord []uint64, a *classify.Analysis) *SnapshotASPA {
	if set == nil {
		return nil
	}
	t := &classify.ASPATally{}
	for j, o := range ord {
		t.SetCounts(j, counts[uint32(o)])
	}
	im := classify.AnalyzeASPA(a, t)
	x := &SnapshotASPA{ASPAs: set.ASPAs(), Customers: set.Len(), Paths: im.Paths, Matrix: im.Matrix, Impact: map[classify.Impact]int{},
		InvalidBy: map[rov.ASPAReason]int64{}}
	for r, n := range reasons {
		if n != 0 {
			x.InvalidBy[rov.ASPAReason(r)] = n
		}
	}
	var last netip.Prefix
	for id, r := range a.Table.Routes() {
		switch {
		case a.Outcomes[id].Dropped:
			x.RoutesDroppedROV++
		case im.ASPAOnly[id]:
			x.RoutesDroppedASPA++
			x.Impact[im.Assess(id).Impact]++
		case t.Counts(id)[rov.ASPAInvalid] > 0:
			x.RoutesPartlyASPA++
		}
		if id > 0 && r.Prefix == last {
			continue
		}
		last = r.Prefix
		if im.PrefixLost(r.Prefix) {
			x.PrefixesLost++
			if im.PrefixLostByASPA(a, r.Prefix) {
				x.PrefixesLostByASPA++
			}
		}
	}
	return x
}
