package collector

import (
	"slices"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"

	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/rov"
)

// apiPath builds the api.Path gobgp's WatchEvent hands us, with gobgp's own
// marshalling (apiutil), so the converter is tested against the real encoding.
func apiPath(t testing.TB, nlri bgp.AddrPrefixInterface, withdraw bool, attrs ...bgp.PathAttributeInterface) *api.Path {
	p, err := apiutil.NewPath(nlri, withdraw, attrs, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	p.NeighborIp = "192.0.2.1"
	p.Identifier = nlri.PathIdentifier()
	return p
}

func TestPathConverter(t *testing.T) {
	origin := bgp.NewPathAttributeOrigin(0)
	nh := bgp.NewPathAttributeNextHop("192.0.2.1")
	asPath := func(p ...bgp.AsPathParamInterface) bgp.PathAttributeInterface { return bgp.NewPathAttributeAsPath(p) }
	rpki := func(s bgp.ValidationState) bgp.PathAttributeInterface {
		return bgp.NewPathAttributeExtendedCommunities([]bgp.ExtendedCommunityInterface{
			bgp.NewTwoOctetAsSpecificExtended(bgp.EC_SUBTYPE_ROUTE_TARGET, 64500, 1, true), bgp.NewValidationExtended(s)})
	}
	confed := bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_CONFED_SEQ, []uint32{65001})
	tests := []struct {
		name   string
		path   *api.Path
		want   string
		reason string
	}{
		{"AS_SEQUENCE origin is the rightmost AS (RFC 6811 §2)",
			apiPath(t, v4("198.51.100.0", 24, 3), false, origin, asPath(seq(64500, 64501)), nh),
			"announce 192.0.2.1 AS0 198.51.100.0/24 id=3 path=[64500 64501] origin=AS64501 nh=192.0.2.1 rpki=-1", ""},
		{"final AS_SET: origin NONE (RFC 6811 §2)",
			apiPath(t, v4("198.51.100.0", 24, 0), false, origin, asPath(seq(64500), set(64502, 64503)), nh),
			"announce 192.0.2.1 AS0 198.51.100.0/24 id=0 path=[64500 {64502,64503}] origin=NONE nh=192.0.2.1 rpki=-1", ""},
		{"empty AS_PATH (iBGP): local origin (RFC 6811 §2)",
			apiPath(t, v4("198.51.100.0", 24, 0), false, origin, asPath(), nh),
			"announce 192.0.2.1 AS0 198.51.100.0/24 id=0 path=[] origin=LOCAL nh=192.0.2.1 rpki=-1", ""},
		{"final AS_CONFED_SEQUENCE: local origin (RFC 6811 §2)",
			apiPath(t, v4("198.51.100.0", 24, 0), false, origin, asPath(seq(64500), confed), nh),
			"announce 192.0.2.1 AS0 198.51.100.0/24 id=0 path=[64500 65001] origin=LOCAL nh=192.0.2.1 rpki=-1", ""},
		{"IPv6 via MP_REACH_NLRI (RFC 4760), next hop from it",
			apiPath(t, bgp.NewIPv6AddrPrefix(32, "2001:db8::"), false, origin, asPath(seq(64500)),
				bgp.NewPathAttributeMpReachNLRI("2001:db8::1", []bgp.AddrPrefixInterface{bgp.NewIPv6AddrPrefix(32, "2001:db8::")})),
			"announce 192.0.2.1 AS0 2001:db8::/32 id=0 path=[64500] origin=AS64500 nh=2001:db8::1 rpki=-1", ""},
		{"RFC 8097 valid", apiPath(t, v4("198.51.100.0", 24, 0), false, origin, asPath(seq(64500)), nh, rpki(bgp.VALIDATION_STATE_VALID)),
			"announce 192.0.2.1 AS0 198.51.100.0/24 id=0 path=[64500] origin=AS64500 nh=192.0.2.1 rpki=0", ""},
		{"RFC 8097 not found", apiPath(t, v4("198.51.100.0", 24, 0), false, origin, asPath(seq(64500)), nh, rpki(bgp.VALIDATION_STATE_NOT_FOUND)),
			"announce 192.0.2.1 AS0 198.51.100.0/24 id=0 path=[64500] origin=AS64500 nh=192.0.2.1 rpki=1", ""},
		{"RFC 8097 invalid", apiPath(t, v4("198.51.100.0", 24, 0), false, origin, asPath(seq(64500)), nh, rpki(bgp.VALIDATION_STATE_INVALID)),
			"announce 192.0.2.1 AS0 198.51.100.0/24 id=0 path=[64500] origin=AS64500 nh=192.0.2.1 rpki=2", ""},
		{"withdrawal keeps the path id (RFC 7911 §3)", apiPath(t, v4("198.51.100.0", 24, 9), true),
			"withdraw 192.0.2.1 198.51.100.0/24 id=9", ""},
		{"announcement without AS_PATH (RFC 4271 §5.1.2 mandatory)", apiPath(t, v4("198.51.100.0", 24, 0), false, origin, nh),
			"", skipNoASPath},
		{"IPv4 labelled unicast is not ours",
			apiPath(t, bgp.NewLabeledIPAddrPrefix(24, "198.51.100.0", *bgp.NewMPLSLabelStack(100)), false, origin, asPath(seq(64500)), nh),
			"", skipFamily},
	}
	var c pathConverter
	var r mrt.Route
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reason, err := c.convert(tc.path, &r)
			if reason != tc.reason {
				t.Fatalf("reason: got %q (%v), want %q", reason, err, tc.reason)
			}
			if tc.reason != "" {
				return
			}
			r.Peer.IP = netipMust("192.0.2.1:0").Addr()
			if got := summary(r); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !r.Time.Equal(time.Unix(1700000000, 0)) {
				t.Errorf("time: got %v", r.Time)
			}
		})
	}
}

func TestMergeAS4(t *testing.T) {
	s := func(as ...uint32) rov.Segment { return rov.Segment{Type: rov.ASSequence, ASNs: as} }
	st := func(as ...uint32) rov.Segment { return rov.Segment{Type: rov.ASSet, ASNs: as} }
	cs := func(as ...uint32) rov.Segment { return rov.Segment{Type: rov.ASConfedSequence, ASNs: as} }
	tests := []struct {
		name      string
		path, as4 []rov.Segment
		want      []rov.Segment
	}{
		{"RFC 6793 §4.2.3: leading AS_PATH part then AS4_PATH",
			[]rov.Segment{s(64500, 23456, 23456)}, []rov.Segment{s(400000, 400001)},
			[]rov.Segment{s(64500), s(400000, 400001)}},
		{"equal length: AS4_PATH replaces all",
			[]rov.Segment{s(23456, 23456)}, []rov.Segment{s(400000, 400001)},
			[]rov.Segment{s(400000, 400001)}},
		{"AS4_PATH longer than AS_PATH: ignored (RFC 6793 §4.2.3)",
			[]rov.Segment{s(23456)}, []rov.Segment{s(400000, 400001)},
			[]rov.Segment{s(23456)}},
		{"AS_SET counts as one",
			[]rov.Segment{s(64500), st(23456, 64501), s(23456)}, []rov.Segment{s(400001)},
			[]rov.Segment{s(64500), st(23456, 64501), s(400001)}},
		{"confederation segments in AS4_PATH are discarded (RFC 6793 §6)",
			[]rov.Segment{s(64500, 23456)}, []rov.Segment{cs(65001), s(400001)},
			[]rov.Segment{s(64500), s(400001)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mergeAS4(tc.path, tc.as4)
			if !slices.EqualFunc(got, tc.want, func(a, b rov.Segment) bool { return a.Type == b.Type && slices.Equal(a.ASNs, b.ASNs) }) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestBMPAS4Path: a 2-byte-AS peer's UPDATE carrying AS4_PATH (RFC 6793)
// reaches us with the reconstructed path.
func TestBMPAS4Path(t *testing.T) {
	attrs := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(0),
		bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{bgp.NewAsPathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, []uint16{64500, 23456})}),
		bgp.NewPathAttributeNextHop("192.0.2.1"),
		bgp.NewPathAttributeAs4Path([]*bgp.As4PathParam{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{400001})}),
	}
	msg := must(bmpRM("192.0.2.10", 64500, bgp.NewBGPUpdateMessage(nil, attrs, []*bgp.IPAddrPrefix{v4("198.51.100.0", 24, 0)})))
	ev, _, err := runBytes(t, msg, false)
	if err != nil {
		t.Fatal(err)
	}
	want := "announce 192.0.2.10 AS64500 198.51.100.0/24 id=0 path=[64500 400001] origin=AS400001 nh=192.0.2.1 rpki=-1"
	if len(ev) == 0 || summary(ev[0]) != want {
		t.Errorf("got %q, want %q", summaries(ev), want)
	}
}
