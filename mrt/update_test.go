package mrt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/route"
)

// Builders for UPDATE bodies (RFC 4271 §4.3), byte for byte.

func battr(flags, typ byte, v ...byte) []byte {
	if flags&flagExtLen != 0 {
		return append([]byte{flags, typ, byte(len(v) >> 8), byte(len(v))}, v...)
	}
	return append([]byte{flags, typ, byte(len(v))}, v...)
}

func bnlri(ps ...string) []byte {
	var b []byte
	for _, s := range ps {
		id := -1
		if i := strings.IndexByte(s, '#'); i >= 0 {
			fmt.Sscan(s[i+1:], &id)
			s = s[:i]
		}
		p := netip.MustParsePrefix(s)
		if id >= 0 {
			b = binary.BigEndian.AppendUint32(b, uint32(id))
		}
		b = append(b, byte(p.Bits()))
		b = append(b, p.Addr().AsSlice()[:(p.Bits()+7)/8]...)
	}
	return b
}

func bupd(withdrawn []byte, attrs [][]byte, nlri []byte) []byte {
	a := bytes.Join(attrs, nil)
	b := binary.BigEndian.AppendUint16(nil, uint16(len(withdrawn)))
	b = append(b, withdrawn...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(a)))
	b = append(b, a...)
	return append(b, nlri...)
}

func asPath4(asns ...uint32) []byte {
	v := []byte{2, byte(len(asns))}
	for _, a := range asns {
		v = binary.BigEndian.AppendUint32(v, a)
	}
	return battr(0x40, attrASPath, v...)
}

var (
	aOrigin = battr(0x40, attrOrigin, 0)
	aPath   = asPath4(64500, 64501)
	aNH     = battr(0x40, attrNextHop, 192, 0, 2, 1)
)

func mpReach(afi uint16, safi byte, nh []byte, nlri []byte) []byte {
	v := binary.BigEndian.AppendUint16(nil, afi)
	v = append(v, safi, byte(len(nh)))
	v = append(v, nh...)
	v = append(v, 0)
	return battr(0x90, attrMPReach, append(v, nlri...)...)
}

func mpUnreach(afi uint16, safi byte, nlri []byte) []byte {
	v := binary.BigEndian.AppendUint16(nil, afi)
	return battr(0x90, attrMPUnreach, append(append(v, safi), nlri...)...)
}

var nh6 = netip.MustParseAddr("2001:db8::1").AsSlice()

// TestUpdateDecoder pins each RFC 7606 outcome (and the RFC 4271, 4724,
// 4760, 6793, 7911 rules around it) on a hand-built UPDATE.
func TestUpdateDecoder(t *testing.T) {
	ebgp := UpdateOptions{AS4: true}
	tests := []struct {
		name      string
		body      []byte
		opts      UpdateOptions
		handling  Handling
		subcode   uint8 // for SessionReset
		announced string
		withdrawn string
		check     func(*testing.T, *Update)
	}{
		{name: "clean IPv4 announcement", body: bupd(nil, [][]byte{aOrigin, aPath, aNH}, bnlri("192.0.2.0/24", "198.51.100.0/22")), opts: ebgp,
			announced: "192.0.2.0/24 198.51.100.0/22",
			check: func(t *testing.T, u *Update) {
				if u.NextHop != netip.MustParseAddr("192.0.2.1") || len(u.Path) != 1 || !slices.Equal(u.Path[0].ASNs, []uint32{64500, 64501}) || u.Origin.ASN != 64501 {
					t.Errorf("nh %v path %v origin %v", u.NextHop, u.Path, u.Origin)
				}
			}},
		{name: "withdrawal only", body: bupd(bnlri("192.0.2.0/24"), nil, nil), opts: ebgp, withdrawn: "192.0.2.0/24"},
		{name: "RFC 4724 §2: IPv4 End-of-RIB is the minimum UPDATE", body: bupd(nil, nil, nil), opts: ebgp,
			check: func(t *testing.T, u *Update) {
				if !u.EndOfRIB || u.EORFamily != IPv4Unicast {
					t.Errorf("EndOfRIB %v %v, want IPv4", u.EndOfRIB, u.EORFamily)
				}
			}},
		{name: "RFC 4724 §2: IPv6 End-of-RIB is a lone empty MP_UNREACH_NLRI", body: bupd(nil, [][]byte{mpUnreach(2, 1, nil)}, nil), opts: ebgp,
			check: func(t *testing.T, u *Update) {
				if !u.EndOfRIB || u.EORFamily != IPv6Unicast {
					t.Errorf("EndOfRIB %v %v, want IPv6", u.EndOfRIB, u.EORFamily)
				}
			}},
		{name: "RFC 7606 §7.1: ORIGIN 5 is treat-as-withdraw", body: bupd(nil, [][]byte{battr(0x40, attrOrigin, 5), aPath, aNH}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §7.1: ORIGIN of length 2", body: bupd(nil, [][]byte{battr(0x40, attrOrigin, 0, 0), aPath, aNH}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §3 d: missing AS_PATH", body: bupd(nil, [][]byte{aOrigin, aNH}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §3 d: missing NEXT_HOP with NLRI field", body: bupd(nil, [][]byte{aOrigin, aPath}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 4760 §3: MP_REACH_NLRI alone needs no NEXT_HOP", body: bupd(nil, [][]byte{aOrigin, aPath, mpReach(2, 1, nh6, bnlri("2001:db8::/32"))}, nil), opts: ebgp,
			announced: "2001:db8::/32",
			check: func(t *testing.T, u *Update) {
				if got := u.NextHopOf(u.Announced[0]); got != netip.MustParseAddr("2001:db8::1") {
					t.Errorf("next hop %v", got)
				}
			}},
		{name: "RFC 7606 §7.3: NEXT_HOP of length 5", body: bupd(nil, [][]byte{aOrigin, aPath, battr(0x40, attrNextHop, 1, 2, 3, 4, 5)}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §7.4: MULTI_EXIT_DISC of length 3", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, battr(0x80, attrMED, 0, 0, 1)}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §4: attribute length overruns the attributes", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, {0xc0, 8, 200, 0, 0}}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §4: fewer than three octets left", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, {0xc0, 8}}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §3 c: ORIGIN flagged optional", body: bupd(nil, [][]byte{battr(0xc0, attrOrigin, 0), aPath, aNH}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §3 g: MP_REACH_NLRI twice resets the session", body: bupd(nil, [][]byte{aOrigin, aPath, mpReach(2, 1, nh6, nil), mpReach(2, 1, nh6, nil)}, nil), opts: ebgp,
			handling: SessionReset, subcode: SubMalformedAttrList},
		{name: "RFC 7606 §3 g: a repeated COMMUNITIES is discarded", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, battr(0xc0, attrCommunities, 0, 1, 0, 1), battr(0xc0, attrCommunities, 1)}, bnlri("192.0.2.0/24")), opts: ebgp,
			announced: "192.0.2.0/24", check: func(t *testing.T, u *Update) {
				if u.Discarded != 1 {
					t.Errorf("Discarded %d, want 1", u.Discarded)
				}
			}},
		{name: "RFC 7606 §7.6: ATOMIC_AGGREGATE of length 1 is discarded", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, battr(0x40, attrAtomicAgg, 1)}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: AttributeDiscard, announced: "192.0.2.0/24"},
		{name: "RFC 7606 §7.7: AGGREGATOR of length 7 is discarded", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, battr(0xc0, attrAggregator, 1, 2, 3, 4, 5, 6, 7)}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: AttributeDiscard, announced: "192.0.2.0/24"},
		{name: "RFC 7606 §7.8: COMMUNITIES of length 3", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, battr(0xc0, attrCommunities, 1, 2, 3)}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §7.14: EXTENDED_COMMUNITIES of length 7", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, battr(0xc0, attrExtCommunity, 1, 2, 3, 4, 5, 6, 7)}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 8092 §5: LARGE_COMMUNITY of length 11", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, battr(0xc0, attrLargeComm, make([]byte, 11)...)}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §7.5: LOCAL_PREF from an external peer is discarded", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, battr(0x40, attrLocalPref, 1)}, bnlri("192.0.2.0/24")), opts: ebgp,
			announced: "192.0.2.0/24"},
		{name: "RFC 7606 §7.5: LOCAL_PREF of length 1 from an internal peer", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, battr(0x40, attrLocalPref, 1)}, bnlri("192.0.2.0/24")), opts: UpdateOptions{AS4: true, IBGP: true},
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §7.2: AS_PATH segment type 7", body: bupd(nil, [][]byte{aOrigin, battr(0x40, attrASPath, 7, 1, 0, 0, 0, 1), aNH}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §7.2: AS_PATH segment of length zero", body: bupd(nil, [][]byte{aOrigin, battr(0x40, attrASPath, 2, 0), aNH}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §7.2: AS_PATH segment overrun", body: bupd(nil, [][]byte{aOrigin, battr(0x40, attrASPath, 2, 2, 0, 0, 0, 1), aNH}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "192.0.2.0/24"},
		{name: "RFC 7606 §7.11: IPv6 next hop of length 5 disables IPv6, IPv4 NLRI stand",
			body: bupd(nil, [][]byte{aOrigin, aPath, aNH, mpReach(2, 1, []byte{1, 2, 3, 4, 5}, bnlri("2001:db8::/32"))}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: AFISAFIDisable, announced: "192.0.2.0/24",
			check: func(t *testing.T, u *Update) {
				if !u.Disable[IPv6Unicast] || u.Disable[IPv4Unicast] || u.Err.Family != IPv6Unicast {
					t.Errorf("Disable %v family %v", u.Disable, u.Err.Family)
				}
			}},
		{name: "RFC 7606 §5.3: MP_REACH_NLRI prefixes overrun: AFI/SAFI disable", body: bupd(nil, [][]byte{aOrigin, aPath, mpReach(2, 1, nh6, []byte{64, 0x20, 1})}, nil), opts: ebgp,
			handling: AFISAFIDisable},
		{name: "RFC 7606 §5.3: MP_UNREACH_NLRI prefix /129: AFI/SAFI disable", body: bupd(nil, [][]byte{mpUnreach(2, 1, []byte{129})}, nil), opts: ebgp,
			handling: AFISAFIDisable},
		{name: "MP_REACH_NLRI without AFI/SAFI: session reset", body: bupd(nil, [][]byte{aOrigin, aPath, battr(0x80, attrMPReach, 0, 2)}, nil), opts: ebgp,
			handling: SessionReset, subcode: SubOptionalAttrError},
		{name: "RFC 4271 §6.3: withdrawn routes length overruns the message", body: []byte{0, 9, 24, 192, 0, 2, 0, 0}, opts: ebgp,
			handling: SessionReset, subcode: SubMalformedAttrList},
		{name: "RFC 4271 §6.3: total attribute length overruns the message", body: []byte{0, 0, 0, 40, 0x40, 1, 1, 0}, opts: ebgp,
			handling: SessionReset, subcode: SubMalformedAttrList},
		{name: "RFC 7606 §5.3: NLRI prefix /33 resets the session (Invalid Network Field)", body: bupd(nil, [][]byte{aOrigin, aPath, aNH}, []byte{33, 1, 2, 3, 4, 5}), opts: ebgp,
			handling: SessionReset, subcode: SubInvalidNetworkField},
		{name: "RFC 4271 §6.3: unrecognized well-known attribute", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, battr(0x40, 99, 1)}, bnlri("192.0.2.0/24")), opts: ebgp,
			handling: SessionReset, subcode: SubUnrecognizedWellKown},
		{name: "unrecognized optional attribute is accepted", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, battr(0xc0, 99, 1)}, bnlri("192.0.2.0/24")), opts: ebgp,
			announced: "192.0.2.0/24"},
		{name: "RFC 4271 §9.1.2: a path with the local AS is withdrawn", body: bupd(nil, [][]byte{aOrigin, asPath4(64500, 65000, 64501), aNH}, bnlri("192.0.2.0/24")), opts: UpdateOptions{AS4: true, LocalAS: 65000},
			withdrawn: "192.0.2.0/24", check: func(t *testing.T, u *Update) {
				if !u.Looped {
					t.Error("not Looped")
				}
			}},
		{name: "RFC 7606 §2: treat-as-withdraw withdraws MP_REACH_NLRI prefixes too", body: bupd(nil, [][]byte{battr(0x40, attrOrigin, 5), aPath, mpReach(2, 1, nh6, bnlri("2001:db8::/32"))}, nil), opts: ebgp,
			handling: TreatAsWithdraw, withdrawn: "2001:db8::/32"},
		{name: "RFC 4760 §7: a disabled family's NLRI are ignored", body: bupd(nil, [][]byte{aOrigin, aPath, mpReach(2, 1, nh6, bnlri("2001:db8::/32"))}, nil),
			opts: UpdateOptions{AS4: true, Disabled: [NumFamilies]bool{IPv6Unicast: true}},
			check: func(t *testing.T, u *Update) {
				if u.Ignored != 1 {
					t.Errorf("Ignored %d, want 1", u.Ignored)
				}
			}},
		{name: "RFC 7911 §3: path identifiers", body: bupd(bnlri("192.0.2.0/24#7"), [][]byte{aOrigin, aPath, aNH}, bnlri("192.0.2.0/24#8", "198.51.100.0/24#9")),
			opts: UpdateOptions{AS4: true, AddPath: [NumFamilies]bool{IPv4Unicast: true}}, announced: "192.0.2.0/24#8 198.51.100.0/24#9", withdrawn: "192.0.2.0/24#7"},
		{name: "RFC 6793 §4.2.3: AS4_PATH merged on a 2-octet session", body: bupd(nil, [][]byte{aOrigin, battr(0x40, attrASPath, 2, 2, 0xfb, 0xf4, 0x5b, 0xa0),
			battr(0xc0, attrAS4Path, 2, 1, 0, 6, 0x1a, 0x81), aNH}, bnlri("192.0.2.0/24")), opts: UpdateOptions{},
			announced: "192.0.2.0/24", check: func(t *testing.T, u *Update) {
				if u.Origin.ASN != 400001 {
					t.Errorf("origin %v, want AS400001", u.Origin)
				}
			}},
		{name: "RFC 8097: validation state community", body: bupd(nil, [][]byte{aOrigin, aPath, aNH, battr(0xc0, attrExtCommunity, 0x43, 0, 0, 0, 0, 0, 0, 2)}, bnlri("192.0.2.0/24")), opts: ebgp,
			announced: "192.0.2.0/24", check: func(t *testing.T, u *Update) {
				if u.RPKI != route.RPKIInvalid {
					t.Errorf("RPKI %v", u.RPKI)
				}
			}},
		{name: "IPv4 multicast MP_REACH_NLRI is ignored", body: bupd(nil, [][]byte{aOrigin, aPath, mpReach(1, 2, []byte{192, 0, 2, 1}, bnlri("192.0.2.0/24"))}, nil), opts: ebgp,
			check: func(t *testing.T, u *Update) {
				if u.Ignored != 1 {
					t.Errorf("Ignored %d", u.Ignored)
				}
			}},
	}
	var d UpdateDecoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := d.Decode(tc.body, &tc.opts)
			if got := u.Handling(); got != tc.handling {
				t.Fatalf("handling: got %v (%v), want %v", got, u.Err, tc.handling)
			}
			if tc.handling == SessionReset {
				if u.Err.Subcode != tc.subcode {
					t.Errorf("subcode: got %d, want %d", u.Err.Subcode, tc.subcode)
				}
				return
			}
			if got := nlriString(u.Announced); got != tc.announced {
				t.Errorf("announced: got %q, want %q", got, tc.announced)
			}
			if got := nlriString(u.Withdrawn); got != tc.withdrawn {
				t.Errorf("withdrawn: got %q, want %q", got, tc.withdrawn)
			}
			if tc.check != nil {
				tc.check(t, u)
			}
		})
	}
}

func nlriString(l []NLRI) string {
	var s []string
	for _, n := range l {
		x := n.Prefix.String()
		if n.PathID != 0 {
			x += fmt.Sprintf("#%d", n.PathID)
		}
		s = append(s, x)
	}
	return strings.Join(s, " ")
}

// FuzzUpdateDecoder: any input decodes without panicking, and the result
// holds together: a session reset carries nothing to apply; announced
// NLRI come with a path; nothing of a disabled family is applied; every
// prefix is masked.
func FuzzUpdateDecoder(f *testing.F) {
	f.Add(bupd(nil, [][]byte{aOrigin, aPath, aNH}, bnlri("192.0.2.0/24")), false, false)                                 // clean
	f.Add(bupd(nil, [][]byte{battr(0x40, attrOrigin, 5), aPath, aNH}, bnlri("192.0.2.0/24")), false, false)              // ORIGIN 5
	f.Add(bupd(nil, [][]byte{aOrigin, aPath, mpReach(2, 1, nh6, bnlri("2001:db8::/32"))}, nil), true, false)             // IPv6
	f.Add(bupd(nil, [][]byte{aOrigin, aPath, mpReach(2, 1, []byte{1, 2, 3}, bnlri("2001:db8::/32"))}, nil), false, true) // disable
	f.Add(bupd(nil, [][]byte{mpUnreach(2, 1, nil)}, nil), false, false)                                                  // EoR
	f.Add([]byte{0, 9, 24, 192, 0, 2, 0, 0}, false, false)                                                               // reset
	f.Fuzz(func(t *testing.T, body []byte, addPath, ibgp bool) {
		var d UpdateDecoder
		o := UpdateOptions{AS4: true, AddPath: [NumFamilies]bool{addPath, addPath}, IBGP: ibgp, LocalAS: 65000,
			Disabled: [NumFamilies]bool{IPv6Unicast: ibgp}}
		u := d.Decode(body, &o)
		h := u.Handling()
		if h == SessionReset && (len(u.Announced) > 0 || len(u.Withdrawn) > 0) {
			t.Fatalf("session reset with %d announced, %d withdrawn", len(u.Announced), len(u.Withdrawn))
		}
		if (h == TreatAsWithdraw || u.TreatedAsWithdraw) && len(u.Announced) > 0 {
			t.Fatalf("%v with %d announcements", h, len(u.Announced))
		}
		for _, l := range [][]NLRI{u.Announced, u.Withdrawn} {
			for _, n := range l {
				if n.Prefix != n.Prefix.Masked() || !n.Prefix.IsValid() {
					t.Fatalf("prefix %v not masked", n.Prefix)
				}
				if f := FamilyOfPrefix(n.Prefix); o.Disabled[f] {
					t.Fatalf("%v of disabled family %v applied", n.Prefix, f)
				}
			}
		}
		if u.Looped && !pathContains(u.Path, 65000) {
			t.Fatal("Looped without the local AS in the path")
		}
		if len(u.Announced) > 0 && pathContains(u.Path, 65000) {
			t.Fatal("a path with the local AS announced")
		}
	})
}
