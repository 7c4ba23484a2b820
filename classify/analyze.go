package classify

import (
	"fmt"
	"net/netip"
	"runtime"
	"sync"

	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// Options for Analyze.
type Options struct {
	ASSet   ASSetPolicy
	Impact  ImpactOptions
	LocalAS uint32 // resolves OriginLocal (empty AS_PATH, final confed segment); 0: unknown
	Workers int    // validation goroutines; 0: GOMAXPROCS
}

// Outcome is the validation result of one route of the table.
type Outcome struct {
	Origin rov.Origin // after resolving OriginLocal with Options.LocalAS
	State  rov.State
	Class  Class
	AS0    bool
	// Unvalidated: the origin is the local AS and Options.LocalAS was not
	// given, so the route cannot be validated. It is reported apart, never
	// guessed, and kept (not dropped) in the impact analysis: ROV on eBGP
	// sessions does not drop a network's own routes.
	Unvalidated bool
	Dropped     bool // dropped by ROV under Options.ASSet
	vrpOff      uint32
	vrpLen      uint32
}

// Analysis is the validation, classification and coverage of a whole table.
// Read-only once built; safe for concurrent use.
type Analysis struct {
	Table    *table.Table
	Index    *rov.Index
	Options  Options
	Outcomes []Outcome // indexed by route id
	Coverage *Coverage // entries indexed by route id
	vrpRefs  []uint32
}

// Analyze validates and classifies every route of t once (not once per
// path), in parallel, and indexes the survivors for impact questions.
func Analyze(t *table.Table, ix *rov.Index, opt Options) *Analysis {
	routes := t.Routes()
	a := &Analysis{Table: t, Index: ix, Options: opt, Outcomes: make([]Outcome, len(routes))}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(routes)/4096+1))
	refs := make([][]uint32, workers)
	var wg sync.WaitGroup
	chunk := (len(routes) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(routes))
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := NewClassifier(ix)
			var local []uint32
			for i := lo; i < hi; i++ {
				local = a.classifyOne(c, i, local)
			}
			refs[w] = local
		}()
	}
	wg.Wait()
	// Stitch the workers' VRP references into one arena.
	n := 0
	for _, r := range refs {
		n += len(r)
	}
	a.vrpRefs = make([]uint32, 0, n)
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(routes))
		base := uint32(len(a.vrpRefs))
		for i := lo; i < hi; i++ {
			a.Outcomes[i].vrpOff += base
		}
		a.vrpRefs = append(a.vrpRefs, refs[w]...)
	}
	entries := make([]Entry, len(routes))
	for i, r := range routes {
		entries[i] = Entry{Prefix: r.Prefix, State: a.Outcomes[i].State, Dropped: a.Outcomes[i].Dropped}
	}
	a.Coverage = NewCoverage(entries, opt.Impact)
	return a
}

func (a *Analysis) classifyOne(c *Classifier, i int, refs []uint32) []uint32 {
	out, vrps := ClassifyRoute(c, a.Table.Routes()[i], a.Options)
	out.vrpOff, out.vrpLen = uint32(len(refs)), uint32(len(vrps))
	a.Outcomes[i] = out
	return append(refs, vrps...)
}

// ClassifyRoute is the verdict on one route under opt: the single rule
// Analyze applies to every route, exported so that a source which keeps
// verdicts itself (the live table re-validating only what a VRP change
// touches) decides exactly as a batch analysis would. The returned VRP
// indexes (into c's Index) alias c's buffer: copy them before the next call.
func ClassifyRoute(c *Classifier, r table.Route, opt Options) (Outcome, []uint32) {
	o := r.Origin.WithLocalAS(opt.LocalAS)
	out := Outcome{Origin: o}
	if o.Kind == rov.OriginLocal {
		out.Unvalidated = true
		out.State = rov.NotFound
		return out, nil
	}
	v := c.Classify(r.Prefix, o)
	out.State, out.Class, out.AS0 = v.State, v.Class, v.AS0
	out.Dropped = Dropped(v.State, o, opt.ASSet)
	return out, v.VRPs
}

// Assemble builds an Analysis from verdicts decided elsewhere (a snapshot
// file, the live table) without validating again: outcomes[id] is route id's
// Outcome as ClassifyRoute returned it and vrps(id) its deciding VRPs
// (indexes into ix.VRPs()). Only the coverage index for impact is built.
// vrps is called twice per route (once to size the arena, once to fill
// it), so it must be cheap and give the same answer both times.
func Assemble(t *table.Table, ix *rov.Index, opt Options, outcomes []Outcome, vrps func(id int) []uint32) *Analysis {
	routes := t.Routes()
	a := &Analysis{Table: t, Index: ix, Options: opt, Outcomes: outcomes}
	n := 0
	for i := range routes {
		n += len(vrps(i))
	}
	a.vrpRefs = make([]uint32, 0, n)
	for i := range routes {
		refs := vrps(i)
		a.Outcomes[i].vrpOff, a.Outcomes[i].vrpLen = uint32(len(a.vrpRefs)), uint32(len(refs))
		a.vrpRefs = append(a.vrpRefs, refs...)
	}
	a.Coverage = tableCoverage(routes, func(i int) bool { return outcomes[i].Dropped }, opt.Impact)
	return a
}

// VRPs returns the deciding VRPs of route id (indexes into Index.VRPs()).
func (a *Analysis) VRPs(id int) []uint32 {
	o := a.Outcomes[id]
	return a.vrpRefs[o.vrpOff : o.vrpOff+o.vrpLen]
}

// Assess is the impact of dropping route id, seen by the routes in view
// (nil: the whole table; see PeerView).
func (a *Analysis) Assess(id int, view func(int) bool) Assessment {
	return a.Coverage.Assess(id, view)
}

// PeerView restricts impact questions to the routes peer carries: the view
// of a router that has only that session.
func (a *Analysis) PeerView(peer int) func(int) bool {
	return func(id int) bool { return a.Table.HasPeer(id, peer) }
}

// PeersView restricts impact questions to the routes any of peers carries.
func (a *Analysis) PeersView(peers []int) func(int) bool {
	return func(id int) bool {
		for _, p := range peers {
			if a.Table.HasPeer(id, p) {
				return true
			}
		}
		return false
	}
}

// RouteState is the state a report gives a route: its RFC 6811 state, or
// Unvalidated when the origin is the local AS and no --local-as was given
// (Outcome.Unvalidated). The first three values are rov.State's, so
// RouteStateOf is a conversion.
type RouteState uint8

const (
	StateNotFound    = RouteState(rov.NotFound)
	StateValid       = RouteState(rov.Valid)
	StateInvalid     = RouteState(rov.Invalid)
	StateUnvalidated = StateInvalid + 1
)

var routeStateNames = [...]string{"not_found", "valid", "invalid", "unvalidated"}

// RouteStateOf is s as a RouteState.
func RouteStateOf(s rov.State) RouteState { return RouteState(s) }

// RouteState is the state reports show for o, and the one bucket every
// count of routes by state puts o in (reports.Build's summary,
// live.Snapshot.Counts, serve's per-peer counts): Unvalidated first,
// whatever State holds, then the RFC 6811 state (TestRouteState).
func (o Outcome) RouteState() RouteState {
	if o.Unvalidated {
		return StateUnvalidated
	}
	return RouteStateOf(o.State)
}

// String returns the stable snake_case name.
func (s RouteState) String() string {
	if int(s) < len(routeStateNames) {
		return routeStateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText writes the String name.
func (s RouteState) MarshalText() ([]byte, error) {
	if int(s) >= len(routeStateNames) {
		return nil, fmt.Errorf("classify: cannot marshal unknown route state %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a String name back.
func (s *RouteState) UnmarshalText(b []byte) error {
	for i, n := range routeStateNames {
		if string(b) == n {
			*s = RouteState(i)
			return nil
		}
	}
	return fmt.Errorf("classify: unknown route state %q (want not_found, valid, invalid or unvalidated)", b)
}

// VRP returns VRP i of the analysis' index (an index from VRPs, a Verdict
// or a lookup answer), so that renderers need not query the index.
func (a *Analysis) VRP(i uint32) rov.VRP { return a.Index.VRP(i) }

// Explain is the one-line explanation of route id's verdict (Explain).
func (a *Analysis) Explain(id int) string {
	o := a.Outcomes[id]
	v := Verdict{State: o.State, Class: o.Class, AS0: o.AS0, VRPs: a.VRPs(id)}
	return ExplainBy(v, a.Index.VRP, a.Table.Routes()[id].Prefix, o.Origin)
}

// ExplainVerdict is Explain for a verdict on p from o decided against this
// analysis' VRPs (Announce).
func (a *Analysis) ExplainVerdict(v Verdict, p netip.Prefix, o rov.Origin) string {
	return ExplainBy(v, a.Index.VRP, p, o)
}
