package collector

import (
	"slices"
	"testing"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/packet/bmp"
)

// TestBMPAS4Path: a 2-byte-AS peer's UPDATE carrying AS4_PATH (RFC 6793)
// reaches us with the reconstructed path.
func TestBMPAS4Path(t *testing.T) {
	attrs := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(0),
		bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{bgp.NewAsPathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, []uint16{64500, 23456})}),
		bgp.NewPathAttributeNextHop("192.0.2.1"),
		bgp.NewPathAttributeAs4Path([]*bgp.As4PathParam{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{400001})}),
	}
	// RFC 7854 §4.2: the A flag says the UPDATE uses 2-octet AS_PATH.
	msg := must(bmp.NewBMPRouteMonitoring(peerHeader("192.0.2.10", 64500, bmp.BMP_PEER_FLAG_TWO_AS),
		bgp.NewBGPUpdateMessage(nil, attrs, []*bgp.IPAddrPrefix{v4("198.51.100.0", 24, 0)})).Serialize())
	ev, _, err := runBytes(t, msg, false)
	if err != nil {
		t.Fatal(err)
	}
	want := "announce 192.0.2.10 AS64500 198.51.100.0/24 id=0 path=[64500 400001] origin=AS400001 nh=192.0.2.1 rpki=-1"
	if len(ev) == 0 || summary(ev[0]) != want {
		t.Errorf("got %q, want %q", summaries(ev), want)
	}
}

// TestBMPOriginFiveIsTreatAsWithdraw: BMP route monitoring goes through the
// same RFC 7606 handling as a BGP session (mrt.UpdateDecoder): ORIGIN 5 is
// malformed (§7.1) and the prefix it carries is withdrawn, where the gobgp
// parser of 0ecd395 accepted it as an announcement.
func TestBMPOriginFiveIsTreatAsWithdraw(t *testing.T) {
	path := []bgp.AsPathParamInterface{seq(64500, 64501)}
	good := msgUpdate("192.0.2.10", 64500, 0, false, path, []*bgp.IPAddrPrefix{v4("198.51.100.0", 24, 0)}, nil)
	bad := slices.Clone(good)
	const origin = 6 + 42 + 19 + 2 + 2 // common header, per-peer header, BGP header, two lengths
	if bad[origin+1] != 1 || bad[origin+2] != 1 {
		t.Fatalf("unexpected layout % x", bad[origin:origin+4])
	}
	bad[origin+3] = 5
	ev, st, err := runBytes(t, slices.Concat(msgPeerUp("192.0.2.10", 64500, 0, 0), good, bad), false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"announce 192.0.2.10 AS64500 198.51.100.0/24 id=0 path=[64500 64501] origin=AS64501 nh=192.0.2.1 rpki=-1",
		"withdraw 192.0.2.10 198.51.100.0/24 id=0",
		"down 192.0.2.10",
	}
	if got := summaries(ev); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if n := st.Skipped["treat_as_withdraw"]; n != 1 {
		t.Errorf("Skipped[treat_as_withdraw] = %d, want 1", n)
	}
}
