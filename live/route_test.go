package live

import (
	"fmt"
	"net/netip"
	"testing"
	"unsafe"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

// TestRouteMeta: every origin kind, state, class and flag set, with
// counts of deciding VRPs up to the escape, comes back out of a route's
// packed word as it went in, and a route is 24 bytes.
func TestRouteMeta(t *testing.T) {
	if sz := unsafe.Sizeof(route{}); sz != 24 {
		t.Fatalf("route is %d bytes, want 24", sz)
	}
	for kind := range rov.OriginLocal + 1 {
		for st := range rov.Invalid + 1 {
			for cl := range classify.Both + 1 {
				for f := range uint32(8) {
					for _, n := range []uint32{0, 1, 7, vrpLenEscape - 1, vrpLenEscape} {
						rt := route{asn: 4200000000, meta: uint32(kind) | uint32(st)<<metaStateShift |
							uint32(cl)<<metaClassShift | f<<metaFlagsShift | n<<metaLenShift}
						if rt.origin() != (rov.Origin{Kind: kind, ASN: 4200000000}) || rt.state() != st ||
							rt.class() != cl || rt.flags() != f || rt.meta>>metaLenShift != n {
							t.Fatalf("kind %d state %d class %d flags %d count %d: got %v %v %v %d %d",
								kind, st, cl, f, n, rt.origin(), rt.state(), rt.class(), rt.flags(), rt.meta>>metaLenShift)
						}
					}
				}
			}
		}
	}
}

// TestOracleEscapedVRPCounts is TestOracle, TestASPAOracle and
// TestVRPRules with the count of a route's deciding VRPs kept in the
// reference arena (refsOf's escape) from 1 or 2 VRPs on, instead of from
// 4 million: VRP changes then renumber through the routes, and
// compaction, snapshots and re-validation read escaped runs. No answer
// may change.
func TestOracleEscapedVRPCounts(t *testing.T) {
	for _, esc := range []uint32{1, 2} {
		t.Run(fmt.Sprint("escape=", esc), func(t *testing.T) {
			old := vrpLenEscape
			vrpLenEscape = esc
			defer func() { vrpLenEscape = old }()
			t.Run("oracle", TestOracle)
			t.Run("aspa", TestASPAOracle)
			t.Run("vrps", TestVRPRules)
			t.Run("churn", TestChurnBounded)
		})
	}
}

// TestCompactDuringReplace: a replacement that moves a path to a new
// route and frees the old one can compact the VRP reference arena between
// the new route's validation and its first path; the new route's
// deciding VRPs must survive the compaction (main at 1ce234b skipped
// routes with no path yet, leaving the new route's reference offset
// pointing into the old arena). 20000 Invalid routes, each replaced by
// one from another origin: the last replacements compact.
func TestCompactDuringReplace(t *testing.T) {
	s := New(Options{})
	s.SetVRPs([]rov.VRP{{Prefix: netip.MustParsePrefix("10.0.0.0/8"), MaxLen: 24, ASN: 1}})
	const n = 20000
	pfx := func(i int) string { return fmt.Sprintf("10.%d.%d.0/24", i/256, i%256) }
	for _, asn := range []uint32{2, 3} {
		for i := range n {
			r := ann(peerA, pfx(i), 0, seq(64501, asn))
			s.Apply(&r)
		}
	}
	if len(s.refs) > n+1 {
		t.Fatalf("reference arena of %d for %d routes: the replacements did not compact it", len(s.refs), n)
	}
	sn := s.Snapshot()
	want := rov.VRP{Prefix: netip.MustParsePrefix("10.0.0.0/8"), MaxLen: 24, ASN: 1}
	for i := range n {
		p := netip.MustParsePrefix(pfx(i))
		if v, ok := sn.DecidingVRP(p, rov.Origin{ASN: 3}); !ok || v != want {
			t.Errorf("%s AS3: deciding VRP %v, %v; want %v", p, v, ok, want)
		}
	}
}
