package live_test

import (
	"fmt"
	"net/netip"

	"github.com/rovimpact/rovimpact/live"
	bgp "github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/rtr"
)

// The watch loop in miniature: paths arrive, VRPs change, and each new
// snapshot is diffed against the previous one for log lines.
func Example() {
	s := live.New(live.Options{MaxPaths: 1_000_000})
	s.SetVRPs([]rov.VRP{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLen: 24, ASN: 64500}})

	peer := bgp.Peer{AS: 64511, IP: netip.MustParseAddr("198.51.100.1")}
	s.Apply(&bgp.Route{Kind: bgp.Announce, Peer: peer, Prefix: netip.MustParsePrefix("192.0.2.0/24"),
		Path: []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{64511, 64666}}}, Origin: rov.Origin{ASN: 64666}})
	prev := s.Snapshot()
	for _, c := range live.Diff(nil, prev) {
		fmt.Println(c.Kind, c.Prefix, c.Origin.ASN, c.Class, c.Impact)
	}

	// A burst of RTR updates, folded into one index rebuild.
	a, w := live.Coalesce(
		rtr.Delta{Announced: []rov.VRP{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), MaxLen: 24, ASN: 64666}}},
	)
	fmt.Println("re-validated", s.UpdateVRPs(a, w))
	for _, c := range live.Diff(prev, s.Snapshot()) {
		fmt.Println(c.Kind, c.Prefix, c.Origin.ASN, c.OldClass)
	}
	st := s.Stats()
	fmt.Println(st.Routes, st.Paths, st.VRPs, st.Events["announce"])
	// Output:
	// appeared 192.0.2.0/24 64666 wrong_origin unreachable
	// re-validated 1
	// disappeared 192.0.2.0/24 64666 wrong_origin
	// 1 1 2 1
}
