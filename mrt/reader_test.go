package mrt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// --- record builders (RFC 6396 layouts, written out by hand) ---

func be16(v int) []byte    { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func record(ts uint32, typ, sub int, body []byte) []byte {
	return cat(be32(ts), be16(typ), be16(sub), be32(uint32(len(body))), body)
}

func attr(typ byte, v []byte) []byte {
	if len(v) > 255 {
		return cat([]byte{0x50, typ}, be16(len(v)), v)
	}
	return cat([]byte{0x40, typ, byte(len(v))}, v)
}

// seg encodes one path segment with asSize-byte ASNs.
func seg(t rov.SegmentType, asSize int, asns ...uint32) []byte {
	b := []byte{byte(t), byte(len(asns))}
	for _, a := range asns {
		if asSize == 2 {
			b = append(b, be16(int(a))...)
		} else {
			b = append(b, be32(a)...)
		}
	}
	return b
}

func pfx(s string) []byte {
	p := netip.MustParsePrefix(s)
	a := p.Addr().AsSlice()
	return append([]byte{byte(p.Bits())}, a[:(p.Bits()+7)/8]...)
}

func nh4(s string) []byte { return attr(attrNextHop, netip.MustParseAddr(s).AsSlice()) }

func peerIndex(peers ...route.Peer) []byte {
	b := cat(be32(0x0a000001), be16(4), []byte("view"), be16(len(peers)))
	for _, p := range peers {
		typ := byte(2) // AS4
		if p.IP.Is6() {
			typ |= 1
		}
		b = cat(b, []byte{typ}, p.BGPID.AsSlice(), p.IP.AsSlice(), be32(p.AS))
	}
	return record(1000, typeTableDumpV2, tdPeerIndexTable, b)
}

func ribEntry(peer int, pathID *uint32, attrs []byte) []byte {
	b := cat(be16(peer), be32(999))
	if pathID != nil {
		b = cat(b, be32(*pathID))
	}
	return cat(b, be16(len(attrs)), attrs)
}

func rib(sub int, prefix string, entries ...[]byte) []byte {
	return record(1000, typeTableDumpV2, sub, cat(be32(7), pfx(prefix), be16(len(entries)), cat(entries...)))
}

// bgp4mpMsg wraps a BGP message in a BGP4MP header for peer (as, ip).
func bgp4mpMsg(typ, sub int, as uint32, ip string, msg []byte) []byte {
	a := netip.MustParseAddr(ip)
	var h []byte
	if sub == bmMessageAS4 || sub == bmMessageAS4AP || sub == bmStateChangeAS4 || sub == bmMessageAS4Local {
		h = cat(be32(as), be32(65000))
	} else {
		h = cat(be16(int(as)), be16(65000))
	}
	afi := afiIPv4
	if a.Is6() {
		afi = afiIPv6
	}
	h = cat(h, be16(0), be16(afi), a.AsSlice(), a.AsSlice())
	return record(2000, typ, sub, cat(h, msg))
}

func bgpMsg(typ byte, body []byte) []byte {
	return cat(bytes.Repeat([]byte{0xff}, 16), be16(19+len(body)), []byte{typ}, body)
}

func update(withdrawn, attrs, nlri []byte) []byte {
	return bgpMsg(bgpUpdate, cat(be16(len(withdrawn)), withdrawn, be16(len(attrs)), attrs, nlri))
}

var (
	peerA = route.Peer{Index: 0, AS: 64500, IP: netip.MustParseAddr("192.0.2.1"), BGPID: netip.MustParseAddr("192.0.2.1")}
	peerB = route.Peer{Index: 1, AS: 4200000001, IP: netip.MustParseAddr("2001:db8::1"), BGPID: netip.MustParseAddr("192.0.2.9")}
)

func pid(v uint32) *uint32 { return &v }

// TestReaderEvents pins what each record kind yields.
func TestReaderEvents(t *testing.T) {
	path4 := attr(attrASPath, seg(rov.ASSequence, 4, 64500, 4200000000, 64501))
	tests := []struct {
		name    string
		in      []byte
		want    []string
		skipped map[string]int64
	}{
		{
			name: "RFC 6396 §4.3.2 RIB_IPV4_UNICAST: one event per entry, peer from PEER_INDEX_TABLE",
			in: cat(peerIndex(peerA, peerB),
				rib(tdRIBIPv4Unicast, "198.51.100.0/24",
					ribEntry(0, nil, cat(path4, nh4("192.0.2.1"))),
					ribEntry(1, nil, cat(attr(attrASPath, seg(rov.ASSequence, 4, 65001)), nh4("192.0.2.2"))))),
			want: []string{
				"A|192.0.2.1|64500|198.51.100.0/24|0|64500 4200000000 64501|192.0.2.1",
				"A|2001:db8::1|4200000001|198.51.100.0/24|0|65001|192.0.2.2",
			},
		},
		{
			name: "RFC 8050 §4.1 RIB_IPV6_UNICAST_ADDPATH: path identifiers; abbreviated MP_REACH next hop (RFC 6396 §4.3.4)",
			in: cat(peerIndex(peerA, peerB),
				rib(tdRIBIPv6UnicastAP, "2001:db8:100::/40",
					ribEntry(1, pid(7), cat(path4, attr(attrMPReach, cat([]byte{16}, netip.MustParseAddr("2001:db8::1").AsSlice())))),
					ribEntry(1, pid(9), cat(path4, attr(attrMPReach, cat([]byte{32}, netip.MustParseAddr("2001:db8::2").AsSlice(), netip.MustParseAddr("fe80::1").AsSlice())))))),
			want: []string{
				"A|2001:db8::1|4200000001|2001:db8:100::/40|7|64500 4200000000 64501|2001:db8::1",
				"A|2001:db8::1|4200000001|2001:db8:100::/40|9|64500 4200000000 64501|2001:db8::2",
			},
		},
		{
			name: "RFC 4271 §4.3: RIB prefix with host bits is masked",
			in: cat(peerIndex(peerA),
				record(1000, typeTableDumpV2, tdRIBIPv4Unicast, cat(be32(1), []byte{23, 198, 51, 101}, be16(1), ribEntry(0, nil, path4)))),
			want: []string{"A|192.0.2.1|64500|198.51.100.0/23|0|64500 4200000000 64501|invalid IP"},
		},
		{
			name: "RFC 6396 §4.3: RIB_GENERIC and multicast are counted, not decoded",
			in: cat(peerIndex(peerA),
				rib(tdRIBGeneric, "10.0.0.0/8"), rib(tdRIBIPv4Multicast, "10.0.0.0/8", ribEntry(0, nil, path4)),
				rib(tdRIBIPv6McastAP, "2001:db8::/32")),
			skipped: map[string]int64{"rib_generic": 1, "multicast": 2},
		},
		{
			name: "RFC 6396 §4.2 TABLE_DUMP v1: 2-byte AS_PATH with AS_SET",
			in: record(1000, typeTableDump, afiIPv4, cat(be16(0), be16(1), []byte{10, 1, 0, 0, 16, 1}, be32(5),
				[]byte{192, 0, 2, 7}, be16(64510),
				be16(len(attr(attrASPath, cat(seg(rov.ASSequence, 2, 64510, 3356), seg(rov.ASSet, 2, 1, 2))))),
				attr(attrASPath, cat(seg(rov.ASSequence, 2, 64510, 3356), seg(rov.ASSet, 2, 1, 2))))),
			want: []string{"A|192.0.2.7|64510|10.1.0.0/16|0|64510 3356 {1,2}|invalid IP"},
		},
		{
			name: "RFC 6793 §4.2.3 BGP4MP_MESSAGE: 2-byte AS_PATH merged with AS4_PATH",
			in: bgp4mpMsg(typeBGP4MP, bmMessage, 64500, "192.0.2.1", update(nil, cat(
				attr(attrASPath, seg(rov.ASSequence, 2, 64500, 23456, 23456)),
				attr(attrAS4Path, seg(rov.ASSequence, 4, 4200000000, 4200000001)),
				nh4("192.0.2.1")), pfx("203.0.113.0/24"))),
			want: []string{"A|192.0.2.1|64500|203.0.113.0/24|0|64500 4200000000 4200000001|192.0.2.1"},
		},
		{
			name: "RFC 4271 §4.3 withdrawn routes before NLRI; RFC 4760 MP_UNREACH and MP_REACH IPv6",
			in: bgp4mpMsg(typeBGP4MP, bmMessageAS4, 4200000001, "2001:db8::1", update(pfx("192.0.2.0/24"), cat(
				attr(attrMPUnreach, cat(be16(afiIPv6), []byte{1}, pfx("2001:db8:dead::/48"))),
				attr(attrASPath, seg(rov.ASSequence, 4, 4200000001, 65002)),
				attr(attrMPReach, cat(be16(afiIPv6), []byte{1, 16}, netip.MustParseAddr("2001:db8::1").AsSlice(), []byte{0},
					pfx("2001:db8:beef::/48"), pfx("2001:db8:cafe::/48")))), nil)),
			want: []string{
				"W|2001:db8::1|4200000001|192.0.2.0/24|0",
				"W|2001:db8::1|4200000001|2001:db8:dead::/48|0",
				"A|2001:db8::1|4200000001|2001:db8:beef::/48|0|4200000001 65002|2001:db8::1",
				"A|2001:db8::1|4200000001|2001:db8:cafe::/48|0|4200000001 65002|2001:db8::1",
			},
		},
		{
			name: "RFC 8050 §3 BGP4MP_MESSAGE_AS4_ADDPATH: path identifiers on withdrawn and NLRI",
			in: bgp4mpMsg(typeBGP4MP, bmMessageAS4AP, 64500, "192.0.2.1", update(cat(be32(3), pfx("192.0.2.0/24")), cat(
				attr(attrASPath, seg(rov.ASSequence, 4, 64500)), nh4("192.0.2.1")), cat(be32(4), pfx("198.51.100.0/24")))),
			want: []string{
				"W|192.0.2.1|64500|192.0.2.0/24|3",
				"A|192.0.2.1|64500|198.51.100.0/24|4|64500|192.0.2.1",
			},
		},
		{
			name: "RFC 6396 §4.4.1 STATE_CHANGE: leaving Established (6) is PeerDown; others counted",
			in: cat(
				bgp4mpMsg(typeBGP4MP, bmStateChange, 64500, "192.0.2.1", cat(be16(5), be16(6))),
				bgp4mpMsg(typeBGP4MP, bmStateChangeAS4, 4200000001, "2001:db8::1", cat(be16(6), be16(1))),
				bgp4mpMsg(typeBGP4MP, bmStateChange, 64500, "192.0.2.1", cat(be16(6), be16(6)))),
			want:    []string{"DOWN|2001:db8::1|4200000001"},
			skipped: map[string]int64{"state_change": 2},
		},
		{
			name: "RFC 4271 §4.1: OPEN, KEEPALIVE, NOTIFICATION, ROUTE-REFRESH and End-of-RIB counted by kind",
			in: cat(
				bgp4mpMsg(typeBGP4MP, bmMessage, 64500, "192.0.2.1", bgpMsg(bgpOpen, cat([]byte{4}, be16(64500), be16(90), []byte{192, 0, 2, 77}, []byte{0}))),
				bgp4mpMsg(typeBGP4MP, bmMessage, 64500, "192.0.2.1", bgpMsg(bgpKeepalive, nil)),
				bgp4mpMsg(typeBGP4MP, bmMessage, 64500, "192.0.2.1", bgpMsg(bgpNotification, []byte{6, 2})),
				bgp4mpMsg(typeBGP4MP, bmMessage, 64500, "192.0.2.1", bgpMsg(bgpRouteRefresh, []byte{0, 1, 0, 1})),
				bgp4mpMsg(typeBGP4MP, bmMessage, 64500, "192.0.2.1", update(nil, nil, nil))),
			skipped: map[string]int64{"bgp4mp_open": 1, "bgp4mp_keepalive": 1, "bgp4mp_notification": 1, "bgp4mp_route_refresh": 1, "bgp4mp_update_empty": 1},
		},
		{
			name: "RFC 4760: MP_REACH of another SAFI (multicast) is counted, NLRI field still read",
			in: bgp4mpMsg(typeBGP4MP, bmMessageAS4, 64500, "192.0.2.1", update(nil, cat(
				attr(attrASPath, seg(rov.ASSequence, 4, 64500)), nh4("192.0.2.1"),
				attr(attrMPReach, cat(be16(afiIPv4), []byte{2, 4, 192, 0, 2, 1, 0}, pfx("10.0.0.0/8")))), pfx("10.0.0.0/8"))),
			want:    []string{"A|192.0.2.1|64500|10.0.0.0/8|0|64500|192.0.2.1"},
			skipped: map[string]int64{"mp_not_unicast": 1},
		},
		{
			name: "RFC 4760: an UPDATE carrying only multicast NLRI is counted once, not also as empty",
			in: bgp4mpMsg(typeBGP4MP, bmMessageAS4, 64500, "192.0.2.1", update(nil, cat(
				attr(attrASPath, seg(rov.ASSequence, 4, 64500)),
				attr(attrMPReach, cat(be16(afiIPv6), []byte{2, 16}, netip.MustParseAddr("2001:db8::1").AsSlice(), []byte{0}, pfx("2001:db8::/32")))), nil)),
			skipped: map[string]int64{"mp_not_unicast": 1},
		},
		{
			name: "RFC 7606 §2 treat-as-withdraw: malformed AS_PATH drops the announcements, withdrawals stay",
			in: bgp4mpMsg(typeBGP4MP, bmMessageAS4, 64500, "192.0.2.1", update(pfx("192.0.2.0/24"), cat(
				attr(attrASPath, []byte{2, 3, 0, 0}), nh4("192.0.2.1")), cat(pfx("10.0.0.0/8"), pfx("10.1.0.0/16")))),
			want:    []string{"W|192.0.2.1|64500|192.0.2.0/24|0"},
			skipped: map[string]int64{"malformed_attribute": 2},
		},
		{
			name: "RFC 6396 §4.3.4: a malformed attribute drops only its RIB entry",
			in: cat(peerIndex(peerA, peerB),
				rib(tdRIBIPv4Unicast, "198.51.100.0/24",
					ribEntry(0, nil, attr(attrASPath, []byte{9, 1, 0, 0, 0, 1})),
					ribEntry(1, nil, path4))),
			want:    []string{"A|2001:db8::1|4200000001|198.51.100.0/24|0|64500 4200000000 64501|invalid IP"},
			skipped: map[string]int64{"malformed_attribute": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rd := readAll(t, tt.in, "test.mrt")
			if err := rd.Err(); err != nil {
				t.Fatalf("Err() = %v", err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("events:\n got %q\nwant %q", got, tt.want)
			}
			st := rd.Stats()
			if st.Routes != int64(len(got)) {
				t.Errorf("Stats.Routes = %d, want %d", st.Routes, len(got))
			}
			if st.Bytes != int64(len(tt.in)) {
				t.Errorf("Stats.Bytes = %d, want %d", st.Bytes, len(tt.in))
			}
			want := tt.skipped
			if want == nil {
				want = map[string]int64{}
			}
			if len(st.Skipped) != len(want) {
				t.Errorf("Skipped = %v, want %v", st.Skipped, want)
			}
			for k, v := range want {
				if st.Skipped[k] != v {
					t.Errorf("Skipped[%q] = %d, want %d (all: %v)", k, st.Skipped[k], v, st.Skipped)
				}
			}
		})
	}
}

// TestReaderFields checks the Route fields eventLine does not show.
func TestReaderFields(t *testing.T) {
	// RFC 8097 §2: extended community 0x4300, state in the last octet.
	ext := attr(attrExtCommunity, cat([]byte{0x00, 0x02, 0, 0, 0, 1, 0, 2}, []byte{0x43, 0x00, 0, 0, 0, 0, 0, 2}))
	in := cat(
		bgp4mpMsg(typeBGP4MP, bmMessage, 64500, "192.0.2.1", bgpMsg(bgpOpen, cat([]byte{4}, be16(64500), be16(90), []byte{192, 0, 2, 77}, []byte{0}))),
		// BGP4MP_ET: microseconds after the header (RFC 6396 §3).
		func() []byte {
			r := bgp4mpMsg(typeBGP4MPET, bmMessageAS4, 64500, "192.0.2.1", update(nil, cat(
				attr(attrASPath, cat(seg(rov.ASSequence, 4, 64500), seg(rov.ASSet, 4, 1, 2))), nh4("192.0.2.1"), ext), pfx("10.0.0.0/8")))
			body := cat(be32(250000), r[12:])
			return record(2000, typeBGP4MPET, bmMessageAS4, body)
		}())
	rd := NewReader(bytes.NewReader(in), Options{Name: "x"})
	if !rd.Next() {
		t.Fatalf("no event: %v", rd.Err())
	}
	r := rd.Route()
	if want := time.Unix(2000, 250000000).UTC(); !r.Time.Equal(want) {
		t.Errorf("Time = %v, want %v", r.Time, want)
	}
	if r.RPKIState != route.RPKIInvalid {
		t.Errorf("RPKIState = %d, want %d", r.RPKIState, route.RPKIInvalid)
	}
	if r.Origin != (rov.Origin{Kind: rov.OriginNone}) {
		t.Errorf("Origin = %+v, want NONE (AS_SET last, RFC 6811 §2)", r.Origin)
	}
	if !r.FromUpdate || r.Kind != route.Announce {
		t.Errorf("Kind/FromUpdate = %v/%v", r.Kind, r.FromUpdate)
	}
	if want := netip.MustParseAddr("192.0.2.77"); r.Peer.BGPID != want || rd.Peers()[0].BGPID != want {
		t.Errorf("BGPID = %v, want %v from the OPEN", r.Peer.BGPID, want)
	}
	if rd.Next() {
		t.Errorf("extra event")
	}
}

// TestCorrupt pins the Problem text of each corrupt-record case; the good
// record after it shows the Reader resynchronises on the MRT length.
func TestCorrupt(t *testing.T) {
	good := bgp4mpMsg(typeBGP4MP, bmMessageAS4, 64500, "192.0.2.1", update(pfx("192.0.2.0/24"), nil, nil))
	okRIB := ribEntry(0, nil, attr(attrASPath, seg(rov.ASSequence, 4, 1)))
	tests := []struct {
		name, want string
		in         []byte
	}{
		{"TABLE_DUMP bad AFI", "TABLE_DUMP: AFI 3 is neither IPv4 (1) nor IPv6 (2)", record(1, typeTableDump, 3, make([]byte, 30))},
		{"TABLE_DUMP short", "TABLE_DUMP: truncated", record(1, typeTableDump, afiIPv4, make([]byte, 10))},
		{"TABLE_DUMP prefix length", "TABLE_DUMP: prefix length 33 > 32", record(1, typeTableDump, afiIPv4, cat(make([]byte, 8), []byte{33}, make([]byte, 15)))},
		{"TABLE_DUMP attribute length", "TABLE_DUMP: attribute length 9, but 0 bytes follow", record(1, typeTableDump, afiIPv4, cat(make([]byte, 8), []byte{8}, make([]byte, 11), be16(9)))},
		{"RIB prefix length", "RIB_IPV4_UNICAST: prefix: prefix length 33 > 32", record(1, typeTableDumpV2, tdRIBIPv4Unicast, cat(be32(1), []byte{33}))},
		{"RIB IPv6 prefix length", "RIB_IPV6_UNICAST: prefix: prefix length 129 > 128", record(1, typeTableDumpV2, tdRIBIPv6Unicast, cat(be32(1), []byte{129}))},
		{"RIB prefix truncated", "RIB_IPV4_UNICAST: prefix: prefix /24: truncated", record(1, typeTableDumpV2, tdRIBIPv4Unicast, cat(be32(1), []byte{24, 10}))},
		{"RIB bad peer index", "RIB_IPV4_UNICAST 10.0.0.0/8: entry 0: peer index 5, PEER_INDEX_TABLE has 1 peers", rib(tdRIBIPv4Unicast, "10.0.0.0/8", ribEntry(5, nil, nil))},
		{"RIB entry overrun", "RIB_IPV4_UNICAST 10.0.0.0/8: entry 1: attribute length 200 overruns the record by 200 bytes",
			record(1, typeTableDumpV2, tdRIBIPv4Unicast, cat(be32(1), pfx("10.0.0.0/8"), be16(2), okRIB, be16(0), be32(0), be16(200)))},
		{"RIB entry count", "RIB_IPV4_UNICAST 10.0.0.0/8: entry 1 of 2: truncated", record(1, typeTableDumpV2, tdRIBIPv4Unicast, cat(be32(1), pfx("10.0.0.0/8"), be16(2), okRIB))},
		{"RIB trailing bytes", "RIB_IPV4_UNICAST 10.0.0.0/8: 3 bytes after entry 1", record(1, typeTableDumpV2, tdRIBIPv4Unicast, cat(be32(1), pfx("10.0.0.0/8"), be16(1), okRIB, []byte{1, 2, 3}))},
		{"PEER_INDEX_TABLE short", "PEER_INDEX_TABLE: peer 0: truncated", record(1, typeTableDumpV2, tdPeerIndexTable, cat(be32(1), be16(0), be16(1), []byte{0, 1}))},
		{"BGP4MP bad AFI", "BGP4MP: address family 7 is neither IPv4 (1) nor IPv6 (2)", record(1, typeBGP4MP, bmMessageAS4, cat(be32(1), be32(2), be16(0), be16(7), make([]byte, 40)))},
		{"BGP4MP short header", "BGP4MP: header: truncated", record(1, typeBGP4MP, bmMessageAS4, be32(1))},
		{"BGP4MP_ET no microseconds", "BGP4MP_ET: no room for the microsecond timestamp", record(1, typeBGP4MPET, bmMessageAS4, []byte{1})},
		{"BGP message length", "BGP4MP: BGP message length 500, but 19 bytes in the record",
			bgp4mpMsg(typeBGP4MP, bmMessageAS4, 1, "192.0.2.1", cat(bytes.Repeat([]byte{0xff}, 16), be16(500), []byte{2}))},
		{"STATE_CHANGE length", "BGP4MP STATE_CHANGE: 2 state bytes, want 4", bgp4mpMsg(typeBGP4MP, bmStateChange, 1, "192.0.2.1", be16(6))},
		{"withdrawn length", "UPDATE: withdrawn routes length 50 overruns the message", bgp4mpMsg(typeBGP4MP, bmMessageAS4, 1, "192.0.2.1", bgpMsg(bgpUpdate, cat(be16(50), be16(0))))},
		{"attribute length", "UPDATE: path attribute length 50 overruns the message", bgp4mpMsg(typeBGP4MP, bmMessageAS4, 1, "192.0.2.1", bgpMsg(bgpUpdate, cat(be16(0), be16(50))))},
		{"NLRI prefix length", "UPDATE: NLRI: prefix 2: prefix length 40 > 32", bgp4mpMsg(typeBGP4MP, bmMessageAS4, 1, "192.0.2.1", update(nil, nil, cat(pfx("10.0.0.0/8"), []byte{40, 1, 2, 3, 4, 5})))},
		{"withdrawn truncated", "UPDATE: withdrawn routes: prefix 1: prefix /24: truncated", bgp4mpMsg(typeBGP4MP, bmMessageAS4, 1, "192.0.2.1", update([]byte{24, 10}, nil, nil))},
		{"ADD-PATH id truncated", "UPDATE: NLRI: prefix 1: path identifier: truncated", bgp4mpMsg(typeBGP4MP, bmMessageAS4AP, 1, "192.0.2.1", update(nil, nil, []byte{0, 0}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := cat(peerIndex(peerA), tt.in, good)
			got, rd := readAll(t, in, "c.mrt")
			if err := rd.Err(); err != nil {
				t.Fatalf("Err() = %v", err)
			}
			st := rd.Stats()
			if st.Skipped["corrupt"] != 1 || len(st.Problems) != 1 {
				t.Fatalf("Skipped = %v, Problems = %v; want one corrupt record", st.Skipped, st.Problems)
			}
			want := route.Problem{Record: 2, Offset: int64(len(peerIndex(peerA))), Err: tt.want}
			if st.Problems[0] != want {
				t.Errorf("Problem = %+v\n      want %+v", st.Problems[0], want)
			}
			if len(got) != 1 || got[0] != "W|192.0.2.1|64500|192.0.2.0/24|0" {
				t.Errorf("after the corrupt record: got %q, want the good withdrawal", got)
			}
		})
	}
}

// TestMaxProblems checks Problems is bounded while Skipped counts all.
func TestMaxProblems(t *testing.T) {
	// Each corrupt record is followed by a sound one, so the framing is
	// trusted and each is counted (a run of corrupt records is skipped by
	// resynchronisation instead, see TestResync).
	good := bgp4mpMsg(typeBGP4MP, bmMessageAS4, 64500, "192.0.2.1", update(pfx("192.0.2.0/24"), nil, nil))
	var in []byte
	for range route.MaxProblems + 20 {
		in = append(in, record(1, typeTableDump, 9, nil)...)
		in = append(in, good...)
	}
	_, rd := readAll(t, in, "p.mrt")
	st := rd.Stats()
	if len(st.Problems) != route.MaxProblems || st.Skipped["corrupt"] != route.MaxProblems+20 {
		t.Errorf("Problems %d (want %d), corrupt %d (want %d)", len(st.Problems), route.MaxProblems, st.Skipped["corrupt"], route.MaxProblems+20)
	}
}

// TestTruncated cuts a stream of three records at every byte: the complete
// records are delivered, then Err wraps io.ErrUnexpectedEOF and names the
// cut record and its offset (a cut exactly between records is a clean end).
func TestTruncated(t *testing.T) {
	recs := [][]byte{
		bgp4mpMsg(typeBGP4MP, bmMessageAS4, 64500, "192.0.2.1", update(pfx("192.0.2.0/24"), nil, nil)),
		bgp4mpMsg(typeBGP4MP, bmMessageAS4, 64500, "192.0.2.1", update(pfx("192.0.3.0/24"), nil, nil)),
		bgp4mpMsg(typeBGP4MP, bmMessageAS4, 64500, "192.0.2.1", update(pfx("192.0.4.0/24"), nil, nil)),
	}
	full := cat(recs...)
	for cut := 0; cut < len(full); cut++ {
		got, rd := readAll(t, full[:cut], "t.mrt")
		complete, off := 0, 0
		for complete < len(recs) && off+len(recs[complete]) <= cut {
			off += len(recs[complete])
			complete++
		}
		if len(got) != complete {
			t.Errorf("cut %d: %d events, want %d", cut, len(got), complete)
		}
		err := rd.Err()
		if cut == off {
			if err != nil {
				t.Errorf("cut %d at a record boundary: Err() = %v, want nil", cut, err)
			}
			continue
		}
		want := "mrt: t.mrt: truncated record " + itoa(complete+1) + " at offset " + itoa(off) + ": unexpected EOF"
		if !errors.Is(err, io.ErrUnexpectedEOF) || err.Error() != want {
			t.Errorf("cut %d: Err() = %v, want %q", cut, err, want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// errAfter is a reader that yields data then fails with err, as a
// decompressor does on a cut stream.
type errAfter struct {
	r   io.Reader
	err error
}

func (e *errAfter) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

// TestUnderlyingErrors: io.ErrUnexpectedEOF from the decompressor is a
// truncation even on a record boundary; other errors are wrapped as read
// errors.
func TestUnderlyingErrors(t *testing.T) {
	rec := bgp4mpMsg(typeBGP4MP, bmMessageAS4, 64500, "192.0.2.1", update(pfx("192.0.2.0/24"), nil, nil))
	in := cat(rec, rec)
	rd := NewReader(&errAfter{bytes.NewReader(in), io.ErrUnexpectedEOF}, Options{Name: "cut.bz2"})
	n := 0
	for rd.Next() {
		n++
	}
	want := "mrt: cut.bz2: truncated record 3 at offset " + itoa(len(in)) + ": unexpected EOF"
	if n != 2 || !errors.Is(rd.Err(), io.ErrUnexpectedEOF) || rd.Err().Error() != want {
		t.Errorf("events %d, Err() = %v; want 2 events and %q", n, rd.Err(), want)
	}
	boom := errors.New("disk on fire")
	rd = NewReader(&errAfter{bytes.NewReader(in[:len(rec)+5]), boom}, Options{Name: "x"})
	for rd.Next() {
	}
	if !errors.Is(rd.Err(), boom) || !strings.Contains(rd.Err().Error(), "mrt: x: reading record 2 at offset") {
		t.Errorf("Err() = %v, want a wrapped read error naming record 2", rd.Err())
	}
}

// TestMasked: prefixes with host bits set (RFC 4271 §4.3 "the value of
// trailing bits is irrelevant") are yielded masked and counted per event.
func TestMasked(t *testing.T) {
	path := attr(attrASPath, seg(rov.ASSequence, 4, 64500))
	in := cat(peerIndex(peerA),
		// RIB record 198.51.101.0/23 with two entries: two masked events.
		record(1000, typeTableDumpV2, tdRIBIPv4Unicast, cat(be32(1), []byte{23, 198, 51, 101}, be16(2), ribEntry(0, nil, path), ribEntry(0, nil, path))),
		// UPDATE: 10.0.0.1/31 with host bit, 10.0.0.0/8 clean.
		bgp4mpMsg(typeBGP4MP, bmMessageAS4, 64500, "192.0.2.1", update(nil, cat(path, nh4("192.0.2.1")), cat([]byte{31, 10, 0, 0, 1}, pfx("10.0.0.0/8")))),
		// TABLE_DUMP v1 10.1.2.3/16.
		record(1000, typeTableDump, afiIPv4, cat(be16(0), be16(1), []byte{10, 1, 2, 3, 16, 1}, be32(5), []byte{192, 0, 2, 7}, be16(64510), be16(0))))
	got, rd := readAll(t, in, "m.mrt")
	want := []string{
		"A|192.0.2.1|64500|198.51.100.0/23|0|64500|invalid IP",
		"A|192.0.2.1|64500|198.51.100.0/23|0|64500|invalid IP",
		"A|192.0.2.1|64500|10.0.0.0/31|0|64500|192.0.2.1",
		"A|192.0.2.1|64500|10.0.0.0/8|0|64500|192.0.2.1",
		"A|192.0.2.7|64510|10.1.0.0/16|0||invalid IP",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
	if rd.Masked() != 4 {
		t.Errorf("Masked() = %d, want 4", rd.Masked())
	}
}
