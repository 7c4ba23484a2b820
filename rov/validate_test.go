package rov

import (
	"encoding/json"
	"net/netip"
	"slices"
	"testing"
)

// vrp builds a VRP from "prefix-maxlen ASN" parts for table rows.
func tvrp(prefix string, maxLen uint8, asn uint32) VRP {
	return VRP{Prefix: netip.MustParsePrefix(prefix), MaxLen: maxLen, ASN: asn}
}

func asOrigin(asn uint32) Origin { return Origin{Kind: OriginAS, ASN: asn} }

var (
	originNone  = Origin{Kind: OriginNone}
	originLocal = Origin{Kind: OriginLocal}
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		vrps   []VRP
		route  string
		origin Origin
		want   State
		// wantVRPs are indexes into vrps: the matching VRPs for Valid, all
		// covering ones for Invalid (compared as sets).
		wantVRPs []uint32
	}{
		{
			name:  "RFC 6811 §2: no VRP at all, NotFound",
			route: "192.0.2.0/24", origin: asOrigin(64500), want: NotFound,
		},
		{
			name:  "RFC 6811 §2: VRP for other space does not cover, NotFound",
			vrps:  []VRP{tvrp("198.51.100.0/24", 24, 64500)},
			route: "192.0.2.0/24", origin: asOrigin(64500), want: NotFound,
		},
		{
			name:  "RFC 6811 §2 Covered: VRP longer than route does not cover it, NotFound",
			vrps:  []VRP{tvrp("192.0.2.0/25", 25, 64501)},
			route: "192.0.2.0/24", origin: asOrigin(64500), want: NotFound,
		},
		{
			name:  "RFC 6811 §2 Matched: maxLength equal to prefix length, exact route",
			vrps:  []VRP{tvrp("192.0.2.0/24", 24, 64500)},
			route: "192.0.2.0/24", origin: asOrigin(64500), want: Valid, wantVRPs: []uint32{0},
		},
		{
			name:  "RFC 6811 §2: maxLength equal to prefix length, more-specific route is Invalid",
			vrps:  []VRP{tvrp("192.0.2.0/24", 24, 64500)},
			route: "192.0.2.0/25", origin: asOrigin(64500), want: Invalid, wantVRPs: []uint32{0},
		},
		{
			name:  "RFC 6811 §2 Matched: route length equal to maxLength",
			vrps:  []VRP{tvrp("192.0.0.0/22", 23, 64500)},
			route: "192.0.2.0/23", origin: asOrigin(64500), want: Valid, wantVRPs: []uint32{0},
		},
		{
			name:  "RFC 6811 §2: route one bit past maxLength is Invalid",
			vrps:  []VRP{tvrp("192.0.0.0/22", 23, 64500)},
			route: "192.0.2.0/24", origin: asOrigin(64500), want: Invalid, wantVRPs: []uint32{0},
		},
		{
			name:  "RFC 6811 §2: covered, wrong origin is Invalid",
			vrps:  []VRP{tvrp("192.0.2.0/24", 24, 64500)},
			route: "192.0.2.0/24", origin: asOrigin(64501), want: Invalid, wantVRPs: []uint32{0},
		},
		{
			name: "RFC 6811 §2: several ROAs of different ASes over one prefix, one matches",
			vrps: []VRP{
				tvrp("192.0.2.0/24", 24, 64500),
				tvrp("192.0.2.0/24", 24, 64501),
				tvrp("192.0.2.0/24", 24, 64502),
			},
			route: "192.0.2.0/24", origin: asOrigin(64501), want: Valid, wantVRPs: []uint32{1},
		},
		{
			name: "RFC 6811 §2: several ROAs of different ASes, none of them the origin",
			vrps: []VRP{
				tvrp("192.0.2.0/24", 24, 64500),
				tvrp("192.0.2.0/24", 24, 64501),
			},
			route: "192.0.2.0/24", origin: asOrigin(64509), want: Invalid, wantVRPs: []uint32{0, 1},
		},
		{
			name: "RFC 6811 §2: covered by a valid and an invalid VRP at once, Valid wins",
			vrps: []VRP{
				tvrp("192.0.0.0/16", 16, 64501), // covers, wrong AS
				tvrp("192.0.2.0/23", 24, 64500), // matches
				tvrp("192.0.2.0/24", 24, 64502), // covers, wrong AS
			},
			route: "192.0.2.0/24", origin: asOrigin(64500), want: Valid, wantVRPs: []uint32{1},
		},
		{
			name: "RFC 6811 §2: two matching VRPs are both kept",
			vrps: []VRP{
				tvrp("192.0.0.0/16", 24, 64500),
				tvrp("192.0.2.0/23", 24, 64500),
				tvrp("192.0.2.0/24", 24, 64502),
			},
			route: "192.0.2.0/24", origin: asOrigin(64500), want: Valid, wantVRPs: []uint32{0, 1},
		},
		{
			name:  "RFC 6483 §4 / RFC 7607: AS0 VRP covers, route Invalid",
			vrps:  []VRP{tvrp("192.0.2.0/24", 32, 0)},
			route: "192.0.2.0/24", origin: asOrigin(64500), want: Invalid, wantVRPs: []uint32{0},
		},
		{
			name:  "RFC 7607: AS0 VRP never matches, not even a route originated by AS 0",
			vrps:  []VRP{tvrp("192.0.2.0/24", 32, 0)},
			route: "192.0.2.0/24", origin: asOrigin(0), want: Invalid, wantVRPs: []uint32{0},
		},
		{
			name:  "RFC 6483 §4: AS0 VRP beside a real ROA, the real ROA still validates",
			vrps:  []VRP{tvrp("192.0.2.0/24", 24, 0), tvrp("192.0.2.0/24", 24, 64500)},
			route: "192.0.2.0/24", origin: asOrigin(64500), want: Valid, wantVRPs: []uint32{1},
		},
		{
			name:  "RFC 6811 §2: origin NONE (final AS_SET) covered is Invalid even with its ASN in a VRP",
			vrps:  []VRP{tvrp("192.0.2.0/24", 24, 64500)},
			route: "192.0.2.0/24", origin: originNone, want: Invalid, wantVRPs: []uint32{0},
		},
		{
			name:  "RFC 6811 §2: origin NONE not covered is NotFound",
			vrps:  []VRP{tvrp("198.51.100.0/24", 24, 64500)},
			route: "192.0.2.0/24", origin: originNone, want: NotFound,
		},
		{
			name:  "unresolved OriginLocal is treated like NONE (caller must report it separately)",
			vrps:  []VRP{tvrp("192.0.2.0/24", 24, 64500)},
			route: "192.0.2.0/24", origin: originLocal, want: Invalid, wantVRPs: []uint32{0},
		},
		{
			name:  "edge: /0 VRP covers every IPv4 route",
			vrps:  []VRP{tvrp("0.0.0.0/0", 32, 64500)},
			route: "203.0.113.7/32", origin: asOrigin(64500), want: Valid, wantVRPs: []uint32{0},
		},
		{
			name:  "edge: /0 VRP with maxLength 0 makes a /8 Invalid",
			vrps:  []VRP{tvrp("0.0.0.0/0", 0, 64500)},
			route: "10.0.0.0/8", origin: asOrigin(64500), want: Invalid, wantVRPs: []uint32{0},
		},
		{
			name:  "edge: default route 0.0.0.0/0 matched by /0 VRP",
			vrps:  []VRP{tvrp("0.0.0.0/0", 0, 64500), tvrp("10.0.0.0/8", 8, 64501)},
			route: "0.0.0.0/0", origin: asOrigin(64500), want: Valid, wantVRPs: []uint32{0},
		},
		{
			name:  "edge: /32 VRP and /32 route",
			vrps:  []VRP{tvrp("192.0.2.1/32", 32, 64500)},
			route: "192.0.2.1/32", origin: asOrigin(64500), want: Valid, wantVRPs: []uint32{0},
		},
		{
			name:  "edge: /32 VRP does not cover its neighbour",
			vrps:  []VRP{tvrp("192.0.2.1/32", 32, 64500)},
			route: "192.0.2.0/32", origin: asOrigin(64501), want: NotFound,
		},
		{
			name:  "edge: /128 VRP and /128 route",
			vrps:  []VRP{tvrp("2001:db8::1/128", 128, 64500)},
			route: "2001:db8::1/128", origin: asOrigin(64500), want: Valid, wantVRPs: []uint32{0},
		},
		{
			name:  "edge: ::/0 VRP covers an IPv6 /128",
			vrps:  []VRP{tvrp("::/0", 48, 64500)},
			route: "2001:db8::1/128", origin: asOrigin(64500), want: Invalid, wantVRPs: []uint32{0},
		},
		{
			name:  "IPv4 and IPv6 mixed: ::/0 does not cover IPv4",
			vrps:  []VRP{tvrp("::/0", 128, 64500)},
			route: "192.0.2.0/24", origin: asOrigin(64501), want: NotFound,
		},
		{
			name:  "IPv4 and IPv6 mixed: 0.0.0.0/0 does not cover IPv6",
			vrps:  []VRP{tvrp("0.0.0.0/0", 32, 64500)},
			route: "2001:db8::/32", origin: asOrigin(64501), want: NotFound,
		},
		{
			name: "IPv4 and IPv6 mixed: both families indexed, each validates in its own",
			vrps: []VRP{
				tvrp("192.0.2.0/24", 24, 64500),
				tvrp("2001:db8::/32", 48, 64500),
				tvrp("2001:db8::/48", 48, 64501),
			},
			route: "2001:db8::/48", origin: asOrigin(64501), want: Valid, wantVRPs: []uint32{2},
		},
		{
			name:  "IPv6 past maxLength, bits beyond 64",
			vrps:  []VRP{tvrp("2001:db8::/32", 96, 64500)},
			route: "2001:db8::1:0:0/97", origin: asOrigin(64500), want: Invalid, wantVRPs: []uint32{0},
		},
		{
			name:  "duplicate VRPs from two trust anchors are both reported",
			vrps:  []VRP{tvrp("192.0.2.0/24", 24, 64500), tvrp("192.0.2.0/24", 24, 64500)},
			route: "192.0.2.0/24", origin: asOrigin(64500), want: Valid, wantVRPs: []uint32{0, 1},
		},
		{
			name:  "route with host bits is masked before lookup",
			vrps:  []VRP{tvrp("192.0.2.0/24", 24, 64500)},
			route: "192.0.2.77/24", origin: asOrigin(64500), want: Valid, wantVRPs: []uint32{0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := NewIndex(tt.vrps)
			r := ix.Validate(netip.MustParsePrefix(tt.route), tt.origin, nil)
			if r.State != tt.want {
				t.Fatalf("Validate(%s, %v) state = %v, want %v", tt.route, tt.origin, r.State, tt.want)
			}
			got := slices.Sorted(slices.Values(r.VRPs))
			want := slices.Sorted(slices.Values(tt.wantVRPs))
			if !slices.Equal(got, want) {
				t.Errorf("Validate(%s, %v) VRPs = %v, want %v", tt.route, tt.origin, got, want)
			}
		})
	}
}

func TestValidateInvalidPrefix(t *testing.T) {
	ix := NewIndex([]VRP{tvrp("0.0.0.0/0", 32, 64500)})
	if r := ix.Validate(netip.Prefix{}, asOrigin(64500), nil); r.State != NotFound || len(r.VRPs) != 0 {
		t.Errorf("Validate(zero prefix) = %+v, want NotFound with no VRPs", r)
	}
}

func TestValidateAllocs(t *testing.T) {
	ix := NewIndex([]VRP{
		tvrp("192.0.0.0/16", 16, 64501),
		tvrp("192.0.2.0/23", 24, 64500),
		tvrp("192.0.2.0/24", 24, 64502),
	})
	buf := make([]uint32, 0, 8)
	p := netip.MustParsePrefix("192.0.2.0/24")
	n := testing.AllocsPerRun(100, func() {
		ix.Validate(p, asOrigin(64500), buf)
		ix.Validate(p, asOrigin(64509), buf)
	})
	if n != 0 {
		t.Errorf("Validate allocates %v times per run with a big enough buffer, want 0", n)
	}
}

func TestStateText(t *testing.T) {
	for _, tt := range []struct {
		s    State
		want string
	}{{NotFound, "not_found"}, {Valid, "valid"}, {Invalid, "invalid"}} {
		b, err := json.Marshal(tt.s)
		if err != nil {
			t.Fatalf("Marshal(%d): %v", tt.s, err)
		}
		if string(b) != `"`+tt.want+`"` {
			t.Errorf("Marshal(%d) = %s, want %q", tt.s, b, tt.want)
		}
		var back State
		if err := json.Unmarshal(b, &back); err != nil || back != tt.s {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", b, back, err, tt.s)
		}
	}
	if _, err := State(7).MarshalText(); err == nil {
		t.Error("MarshalText(state 7) succeeded, want error")
	}
	var s State
	if err := s.UnmarshalText([]byte("bogus")); err == nil {
		t.Error(`UnmarshalText("bogus") succeeded, want error`)
	}
}
