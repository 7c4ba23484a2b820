package classify

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// TestAssembleEqualsAnalyze pins the contract the live table and snapshots
// rely on: verdicts taken one route at a time with ClassifyRoute and put
// together with Assemble give the same Analysis as Analyze.
func TestAssembleEqualsAnalyze(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var vrps []rov.VRP
	for range 300 {
		p := genPrefix(rng)
		vrps = append(vrps, rov.VRP{Prefix: p, MaxLen: uint8(p.Bits() + rng.IntN(4)), ASN: uint32(rng.IntN(6))})
	}
	ix := rov.NewIndex(vrps)
	tab := table.New()
	peer := tab.Peer(route.PeerKey{AS: 65000})
	for range 2000 {
		o := rov.Origin{Kind: rov.OriginAS, ASN: uint32(1 + rng.IntN(6))}
		switch rng.IntN(20) {
		case 0:
			o = rov.Origin{Kind: rov.OriginNone}
		case 1:
			o = rov.Origin{Kind: rov.OriginLocal}
		}
		tab.Add(genPrefix(rng), o, peer, nil)
	}
	for _, opt := range []Options{{}, {ASSet: ASSetWithdraw, LocalAS: 3}, {ASSet: ASSetNotFound, Workers: 1}} {
		want := Analyze(tab, ix, opt)
		c := NewClassifier(ix)
		outcomes := make([]Outcome, tab.Len())
		refs := make([][]uint32, tab.Len())
		for id, r := range tab.Routes() {
			var v []uint32
			outcomes[id], v = ClassifyRoute(c, r, opt)
			refs[id] = slices.Clone(v)
		}
		got := Assemble(tab, ix, opt, outcomes, func(id int) []uint32 { return refs[id] })
		for id := range tab.Routes() {
			w, g := want.Outcomes[id], got.Outcomes[id]
			w.vrpOff, w.vrpLen, g.vrpOff, g.vrpLen = 0, 0, 0, 0
			if w != g {
				t.Fatalf("opt %+v route %d: outcome %+v, Analyze %+v", opt, id, g, w)
			}
			if !slices.Equal(got.VRPs(id), want.VRPs(id)) {
				t.Fatalf("opt %+v route %d: VRPs %v, Analyze %v", opt, id, got.VRPs(id), want.VRPs(id))
			}
			if a, b := got.Assess(id, nil), want.Assess(id, nil); !reflect.DeepEqual(a, b) {
				t.Fatalf("opt %+v route %d: impact %+v, Analyze %+v", opt, id, a, b)
			}
		}
	}
}
