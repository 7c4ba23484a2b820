package classify

import (
	"encoding/json"
	"net/netip"
	"slices"
	"testing"

	"github.com/rovimpact/rovimpact/rov"
)

func cvrp(prefix string, maxLen uint8, asn uint32) rov.VRP {
	return rov.VRP{Prefix: netip.MustParsePrefix(prefix), MaxLen: maxLen, ASN: asn}
}

func asn(n uint32) rov.Origin { return rov.Origin{Kind: rov.OriginAS, ASN: n} }

var (
	none  = rov.Origin{Kind: rov.OriginNone}
	local = rov.Origin{Kind: rov.OriginLocal}
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		vrps   []rov.VRP
		route  string
		origin rov.Origin
		state  rov.State
		class  Class
		as0    bool
		// want is the exact VRP list, in the documented order.
		want    []uint32
		explain string // when set, the exact Explain line
	}{
		{
			name: "RFC 6811 §2: not covered is NotFound, no class",
			vrps: []rov.VRP{cvrp("198.51.100.0/24", 24, 64500)}, route: "192.0.2.0/24", origin: asn(64500),
			state: rov.NotFound, class: None,
			explain: "no VRP covers 192.0.2.0/24",
		},
		{
			name: "RFC 6811 §2: valid route has no class; VRPs are the matching ones",
			vrps: []rov.VRP{cvrp("192.0.0.0/16", 16, 64501), cvrp("192.0.2.0/23", 24, 64500)}, route: "192.0.2.0/24", origin: asn(64500),
			state: rov.Valid, class: None, want: []uint32{1},
			explain: "VRP 192.0.2.0/23-24 AS64500 allows AS64500 up to /24; route is /24",
		},
		{
			name: "rule 1 as_set: RFC 6811 §2 origin NONE (final AS_SET) covered",
			vrps: []rov.VRP{cvrp("192.0.2.0/24", 24, 64500)}, route: "192.0.2.0/24", origin: none,
			state: rov.Invalid, class: ASSet, want: []uint32{0},
			explain: "origin is NONE (AS_PATH ends in an AS_SET), which no VRP matches; covered by VRP 192.0.2.0/24 AS64500",
		},
		{
			name: "rule 1 as_set: origin NONE not covered is NotFound",
			vrps: []rov.VRP{cvrp("198.51.100.0/24", 24, 64500)}, route: "192.0.2.0/24", origin: none,
			state: rov.NotFound, class: None,
		},
		{
			name: "rule 1 as_set wins over AS0 (flag still set)",
			vrps: []rov.VRP{cvrp("192.0.2.0/24", 32, 0)}, route: "192.0.2.0/24", origin: none,
			state: rov.Invalid, class: ASSet, as0: true, want: []uint32{0},
		},
		{
			name: "rule 2 too_specific: issue example, route one bit past maxLength",
			vrps: []rov.VRP{cvrp("192.0.0.0/22", 23, 64500)}, route: "192.0.2.0/24", origin: asn(64500),
			state: rov.Invalid, class: TooSpecific, want: []uint32{0},
			explain: "VRP 192.0.0.0/22-23 AS64500 allows up to /23; route is /24",
		},
		{
			name: "rule 2 too_specific: maxLength equal to prefix length, /25 announced",
			vrps: []rov.VRP{cvrp("192.0.2.0/24", 24, 64500)}, route: "192.0.2.128/25", origin: asn(64500),
			state: rov.Invalid, class: TooSpecific, want: []uint32{0},
			explain: "VRP 192.0.2.0/24 AS64500 allows up to /24; route is /25",
		},
		{
			name: "rule 2 before 4: origin authorised too short, another AS allows the length",
			vrps: []rov.VRP{cvrp("192.0.0.0/22", 23, 64500), cvrp("192.0.0.0/22", 24, 64501)}, route: "192.0.2.0/24", origin: asn(64500),
			state: rov.Invalid, class: TooSpecific, want: []uint32{0},
		},
		{
			name: "rule 2 before 3: origin has a covering VRP and VRPs inside",
			vrps: []rov.VRP{cvrp("192.0.0.0/20", 21, 64500), cvrp("192.0.2.0/23", 24, 64500)}, route: "192.0.0.0/22", origin: asn(64500),
			state: rov.Invalid, class: TooSpecific, want: []uint32{0},
		},
		{
			name:  "rule 2 too_specific: several VRPs of the origin, Explain names the longest maxLength",
			vrps:  []rov.VRP{cvrp("192.0.0.0/16", 16, 64500), cvrp("192.0.0.0/22", 23, 64500), cvrp("192.0.0.0/8", 8, 64509)},
			route: "192.0.2.0/24", origin: asn(64500),
			state: rov.Invalid, class: TooSpecific, want: []uint32{1, 0},
			explain: "VRP 192.0.0.0/22-23 AS64500 allows up to /23; route is /24 (and 1 more VRP)",
		},
		{
			name: "rule 2 too_specific: IPv6, /56 past a /32-48 ROA",
			vrps: []rov.VRP{cvrp("2001:db8::/32", 48, 64500)}, route: "2001:db8:1:100::/56", origin: asn(64500),
			state: rov.Invalid, class: TooSpecific, want: []uint32{0},
			explain: "VRP 2001:db8::/32-48 AS64500 allows up to /48; route is /56",
		},
		{
			name: "rule 3 too_short: issue example, ROA /23-24 for AS X, route /22 from X, invalid by another AS's VRP",
			vrps: []rov.VRP{cvrp("192.0.2.0/23", 24, 64500), cvrp("192.0.0.0/16", 24, 64501)}, route: "192.0.0.0/22", origin: asn(64500),
			state: rov.Invalid, class: TooShort, want: []uint32{0, 1},
			explain: "AS64500 holds VRP 192.0.2.0/23-24 AS64500 inside the route but none covering it; route is /22; covered by VRP 192.0.0.0/16-24 AS64501",
		},
		{
			name:  "rule 3 too_short: IPv6 aggregate of the origin's /48s",
			vrps:  []rov.VRP{cvrp("2001:db8:1::/48", 48, 64500), cvrp("2001:db8:2::/48", 48, 64500), cvrp("2001:db8::/32", 32, 64501)},
			route: "2001:db8::/32", origin: asn(64500),
			state: rov.Invalid, class: TooShort, want: []uint32{0, 1, 2},
			explain: "AS64500 holds VRP 2001:db8:1::/48 AS64500 inside the route but none covering it; route is /32 (and 1 more VRP); covered by VRP 2001:db8::/32 AS64501",
		},
		{
			name: "rule 3 needs strictly inside: the origin's VRP elsewhere does not count",
			vrps: []rov.VRP{cvrp("198.51.100.0/24", 24, 64500), cvrp("192.0.2.0/24", 24, 64501)}, route: "192.0.2.0/24", origin: asn(64500),
			state: rov.Invalid, class: WrongOrigin, want: []uint32{1},
		},
		{
			name: "rule 4 wrong_origin: RFC 6811 §2 covered, other AS",
			vrps: []rov.VRP{cvrp("192.0.2.0/24", 24, 64500)}, route: "192.0.2.0/24", origin: asn(64501),
			state: rov.Invalid, class: WrongOrigin, want: []uint32{0},
			explain: "VRP 192.0.2.0/24 AS64500 allows /24 only for AS64500; route is from AS64501",
		},
		{
			name: "rule 4 wrong_origin: VRPs allowing the length first, then the rest of C",
			vrps: []rov.VRP{cvrp("192.0.0.0/16", 16, 64502), cvrp("192.0.2.0/23", 24, 64501)}, route: "192.0.2.0/24", origin: asn(64500),
			state: rov.Invalid, class: WrongOrigin, want: []uint32{1, 0},
			explain: "VRP 192.0.2.0/23-24 AS64501 allows /24 only for AS64501; route is from AS64500 (and 1 more VRP)",
		},
		{
			name:  "rule 4 wrong_origin: several ROAs of different ASes over one prefix",
			vrps:  []rov.VRP{cvrp("192.0.2.0/24", 24, 64501), cvrp("192.0.2.0/24", 24, 64502), cvrp("192.0.2.0/24", 24, 64503)},
			route: "192.0.2.0/24", origin: asn(64500),
			state: rov.Invalid, class: WrongOrigin, want: []uint32{0, 1, 2},
		},
		{
			name: "rule 4 wrong_origin + as0: RFC 6483 §4 AS0 ROA forbids all origins",
			vrps: []rov.VRP{cvrp("192.0.2.0/24", 32, 0)}, route: "192.0.2.0/24", origin: asn(64500),
			state: rov.Invalid, class: WrongOrigin, as0: true, want: []uint32{0},
			explain: "VRP 192.0.2.0/24-32 AS0 is AS0: no origin may announce it; route is /24 from AS64500",
		},
		{
			name: "RFC 7607: route originated by AS 0 is not authorised by an AS0 VRP (wrong_origin, not too_specific)",
			vrps: []rov.VRP{cvrp("192.0.2.0/24", 24, 0)}, route: "192.0.2.0/25", origin: asn(0),
			state: rov.Invalid, class: Both, as0: true, want: []uint32{0},
		},
		{
			name: "as0 flag off when a real ROA also covers",
			vrps: []rov.VRP{cvrp("192.0.2.0/24", 32, 0), cvrp("192.0.0.0/16", 16, 64501)}, route: "192.0.2.0/24", origin: asn(64500),
			state: rov.Invalid, class: WrongOrigin, want: []uint32{0, 1},
		},
		{
			name: "rule 5 both: only covering VRP is another AS and shorter than the route",
			vrps: []rov.VRP{cvrp("192.0.0.0/16", 16, 64501)}, route: "192.0.2.0/24", origin: asn(64500),
			state: rov.Invalid, class: Both, want: []uint32{0},
			explain: "VRP 192.0.0.0/16 AS64501 allows up to /16 for AS64501 only; route is /24 from AS64500",
		},
		{
			name: "rule 5 both + as0: AS0 /16 covers a /24",
			vrps: []rov.VRP{cvrp("192.0.0.0/16", 16, 0)}, route: "192.0.2.0/24", origin: asn(64500),
			state: rov.Invalid, class: Both, as0: true, want: []uint32{0},
			explain: "VRP 192.0.0.0/16 AS0 is AS0: no origin may announce it; route is /24 from AS64500",
		},
		{
			name: "edge /0: default-route VRP with maxLength 0, /32 route of another AS",
			vrps: []rov.VRP{cvrp("0.0.0.0/0", 0, 64501)}, route: "192.0.2.1/32", origin: asn(64500),
			state: rov.Invalid, class: Both, want: []uint32{0},
		},
		{
			name: "edge /128: host route past a /64 ROA of the origin",
			vrps: []rov.VRP{cvrp("2001:db8::/64", 64, 64500)}, route: "2001:db8::1/128", origin: asn(64500),
			state: rov.Invalid, class: TooSpecific, want: []uint32{0},
		},
		{
			name: "unresolved OriginLocal: never too_specific/too_short, caller reports it apart",
			vrps: []rov.VRP{cvrp("192.0.2.0/24", 24, 64500)}, route: "192.0.2.0/24", origin: local,
			state: rov.Invalid, class: WrongOrigin, want: []uint32{0},
			explain: "VRP 192.0.2.0/24 AS64500 allows /24 only for AS64500; route is from an unknown local AS",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := rov.NewIndex(tt.vrps)
			c := NewClassifier(ix)
			p := netip.MustParsePrefix(tt.route)
			v := c.Classify(p, tt.origin)
			if v.State != tt.state || v.Class != tt.class || v.AS0 != tt.as0 {
				t.Fatalf("Classify(%s, %+v) = %v/%q/as0=%v, want %v/%q/as0=%v", tt.route, tt.origin, v.State, v.Class, v.AS0, tt.state, tt.class, tt.as0)
			}
			if !slices.Equal(v.VRPs, tt.want) && len(v.VRPs)+len(tt.want) > 0 {
				t.Errorf("VRPs = %v, want %v", v.VRPs, tt.want)
			}
			if tt.explain != "" {
				if got := Explain(v, ix.VRPs(), p, tt.origin); got != tt.explain {
					t.Errorf("Explain =\n  %q\nwant\n  %q", got, tt.explain)
				}
			}
		})
	}
}

func TestClassifyAllocs(t *testing.T) {
	ix := rov.NewIndex([]rov.VRP{
		cvrp("192.0.2.0/23", 24, 64500), cvrp("192.0.0.0/16", 24, 64501), cvrp("192.0.0.0/22", 22, 64502),
	})
	c := NewClassifier(ix)
	routes := []struct {
		p string
		o rov.Origin
	}{
		{"192.0.0.0/22", asn(64500)}, {"192.0.2.0/24", asn(64500)}, {"192.0.2.0/25", asn(64501)},
		{"192.0.0.0/22", asn(64509)}, {"192.0.0.0/22", none}, {"10.0.0.0/8", asn(1)},
	}
	n := testing.AllocsPerRun(100, func() {
		for _, r := range routes {
			c.Classify(netip.MustParsePrefix(r.p), r.o)
		}
	})
	if n != 0 {
		t.Errorf("Classify allocates %v times per run, want 0", n)
	}
}

func TestClassText(t *testing.T) {
	if got, want := len(Classes), len(classNames)-1; got != want {
		t.Fatalf("Classes has %d entries, want %d (every class but None)", got, want)
	}
	for _, c := range append([]Class{None}, Classes...) {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal(%d): %v", c, err)
		}
		var back Class
		if err := json.Unmarshal(b, &back); err != nil || back != c {
			t.Errorf("round trip of %s = %v, %v", b, back, err)
		}
		if p, err := ParseClass(c.String()); err != nil || p != c {
			t.Errorf("ParseClass(%q) = %v, %v; want %v", c.String(), p, err, c)
		}
	}
	for c, want := range map[Class]string{ASSet: "as_set", TooSpecific: "too_specific", TooShort: "too_short", WrongOrigin: "wrong_origin", Both: "both"} {
		if c.String() != want {
			t.Errorf("%d.String() = %q, want %q", c, c.String(), want)
		}
	}
	if _, err := ParseClass("invalid"); err == nil {
		t.Error(`ParseClass("invalid") succeeded, want error`)
	}
	if _, err := Class(42).MarshalText(); err == nil {
		t.Error("MarshalText(class 42) succeeded, want error")
	}
}
