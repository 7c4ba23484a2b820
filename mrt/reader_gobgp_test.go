package mrt

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	gmrt "github.com/osrg/gobgp/v3/pkg/packet/mrt"
	"github.com/rovimpact/rovimpact/rov"
)

// TestGobgpDifferential compares the Reader, record by record, with
// gobgp v3.37.0's mrt.ParseMRTBody on the records gobgp can parse:
// TABLE_DUMP_V2 RIBs and BGP4MP (not BGP4MP_ET, TABLE_DUMP v1 or the
// ADD-PATH BGP4MP subtypes, which ParseMRTBody decodes without ADD-PATH).
// gobgp does not merge AS4_PATH, so for 2-byte BGP4MP_MESSAGE records the
// test merges gobgp's decoded segments with mergeAS4 (pinned separately by
// TestMergeAS4); everything else is gobgp's own decoding.
func TestGobgpDifferential(t *testing.T) {
	files := localFiles(t)
	if findShared() != "" {
		files = append(files, sharedFiles(t)...)
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			if !*fullCorpus && fileSize(t, f) > 200_000 {
				t.Skip("large file: run with -full")
			}
			data, _ := decompress(t, f)
			ours := eventsByRecord(data)
			theirs, compared, skipped := gobgpByRecord(t, data)
			if compared == 0 {
				t.Skipf("gobgp parses no record of this file (%d skipped)", skipped)
			}
			bad := 0
			for rec, want := range theirs {
				got := ours[rec]
				if !linesMatch(got, want) {
					if bad++; bad <= 3 {
						t.Errorf("record %d:\n got %q\nwant %q", rec, got, want)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d records differ", bad, compared)
			}
			t.Logf("%d records compared, %d not parsable by gobgp", compared, skipped)
		})
	}
}

// eventsByRecord runs the Reader and groups the rendered events by the
// record they came from.
func eventsByRecord(data []byte) map[int64][]string {
	out := map[int64][]string{}
	rd := NewReader(bytes.NewReader(data), Options{})
	for rd.Next() {
		out[rd.recNo] = append(out[rd.recNo], eventLine(rd.Route()))
	}
	return out
}

func gobgpByRecord(t *testing.T, data []byte) (map[int64][]string, int, int) {
	out := map[int64][]string{}
	var peers []*gmrt.Peer
	compared, skipped := 0, 0
	for rec := int64(1); len(data) >= headerLen; rec++ {
		var h gmrt.MRTHeader
		if err := h.DecodeFromBytes(data[:headerLen]); err != nil {
			t.Fatal(err)
		}
		if len(data) < headerLen+int(h.Len) {
			break // truncated tail
		}
		body := data[headerLen : headerLen+int(h.Len)]
		data = data[headerLen+int(h.Len):]
		if h.Type == gmrt.BGP4MP && h.SubType >= bmMessageAP {
			skipped++
			continue
		}
		msg, err := gmrt.ParseMRTBody(&h, body)
		if err != nil {
			skipped++
			continue
		}
		var lines []string
		switch b := msg.Body.(type) {
		case *gmrt.PeerIndexTable:
			peers = b.Peers
			continue
		case *gmrt.Rib:
			if b.RouteFamily != bgp.RF_IPv4_UC && b.RouteFamily != bgp.RF_IPv6_UC {
				skipped++
				continue
			}
			p := gobgpPrefix(b.Prefix)
			v6 := p.Addr().Is6()
			for _, e := range b.Entries {
				peer := peers[e.PeerIndex]
				path, nh, nhMP := gobgpAttrs(e.PathAttributes, false)
				if !nh.IsValid() || v6 && nhMP.IsValid() {
					nh = nhMP
				}
				hop := nh.String()
				if !nh.IsValid() && hasMPReach(e.PathAttributes) {
					// gobgp leaves Nexthop nil for the abbreviated RIB
					// MP_REACH_NLRI (RFC 6396 §4.3.4), e.g. every entry of
					// rib6.20151101: the next hop is not compared there
					// (bgpdump checks it).
					hop = "?"
				}
				lines = append(lines, fmt.Sprintf("A|%s|%d|%s|%d|%s|%s", ipAddr(peer.IpAddress), peer.AS, p, e.PathIdentifier, formatPath(path), hop))
			}
		case *gmrt.BGP4MPStateChange:
			if b.OldState == gmrt.ESTABLISHED && b.NewState != gmrt.ESTABLISHED {
				lines = append(lines, fmt.Sprintf("DOWN|%s|%d", ipAddr(b.PeerIpAddress), b.PeerAS))
			}
		case *gmrt.BGP4MPMessage:
			u, ok := b.BGPMessage.Body.(*bgp.BGPUpdate)
			if !ok {
				break
			}
			as2 := h.SubType == bmMessage || h.SubType == bmMessageLocal
			peer := fmt.Sprintf("%s|%d", ipAddr(b.PeerIpAddress), b.PeerAS)
			path, nh, nhMP := gobgpAttrs(u.PathAttributes, as2)
			for _, w := range u.WithdrawnRoutes {
				lines = append(lines, fmt.Sprintf("W|%s|%s|%d", peer, gobgpPrefix(w), w.PathIdentifier()))
			}
			var reach *bgp.PathAttributeMpReachNLRI
			for _, a := range u.PathAttributes {
				switch a := a.(type) {
				case *bgp.PathAttributeMpUnreachNLRI:
					if a.SAFI == bgp.SAFI_UNICAST {
						for _, w := range a.Value {
							lines = append(lines, fmt.Sprintf("W|%s|%s|%d", peer, gobgpPrefix(w), w.PathIdentifier()))
						}
					}
				case *bgp.PathAttributeMpReachNLRI:
					reach = a
				}
			}
			for _, n := range u.NLRI {
				hop := nh
				if !hop.IsValid() {
					hop = nhMP
				}
				lines = append(lines, fmt.Sprintf("A|%s|%s|%d|%s|%s", peer, gobgpPrefix(n), n.PathIdentifier(), formatPath(path), hop))
			}
			if reach != nil && reach.SAFI == bgp.SAFI_UNICAST {
				for _, n := range reach.Value {
					lines = append(lines, fmt.Sprintf("A|%s|%s|%d|%s|%s", peer, gobgpPrefix(n), n.PathIdentifier(), formatPath(path), nhMP))
				}
			}
		default:
			skipped++
			continue
		}
		compared++
		if len(lines) > 0 {
			out[rec] = lines
		}
	}
	return out, compared, skipped
}

// linesMatch compares rendered events; a want line ending in "|?" matches
// any next hop.
func linesMatch(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		w := want[i]
		if strings.HasSuffix(w, "|?") {
			g := got[i]
			if j := strings.LastIndexByte(g, '|'); j < 0 || g[:j+1] != w[:len(w)-1] {
				return false
			}
			continue
		}
		if got[i] != w {
			return false
		}
	}
	return true
}

func hasMPReach(attrs []bgp.PathAttributeInterface) bool {
	for _, a := range attrs {
		if _, ok := a.(*bgp.PathAttributeMpReachNLRI); ok {
			return true
		}
	}
	return false
}

// nextHop converts gobgp's next hop: 16 bytes stay IPv6 (an IPv4-mapped
// next hop of an IPv6 route, RFC 4798, is kept as bgpdump prints it).
func nextHop(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a
}

func ipAddr(ip net.IP) netip.Addr {
	if v4 := ip.To4(); v4 != nil && !strings.Contains(ip.String(), ":") {
		return netip.AddrFrom4([4]byte(v4))
	}
	a, _ := netip.AddrFromSlice(ip)
	return a
}

func gobgpPrefix(p bgp.AddrPrefixInterface) netip.Prefix {
	return netip.MustParsePrefix(p.String()).Masked()
}

// gobgpAttrs extracts the AS path (AS4_PATH merged for 2-byte AS_PATHs),
// NEXT_HOP and the MP_REACH next hop from gobgp's decoded attributes.
func gobgpAttrs(attrs []bgp.PathAttributeInterface, as2 bool) (path []rov.Segment, nh, nhMP netip.Addr) {
	var as4 []rov.Segment
	haveAS4 := false
	for _, a := range attrs {
		switch a := a.(type) {
		case *bgp.PathAttributeAsPath:
			path = gobgpSegments(a.Value)
		case *bgp.PathAttributeAs4Path:
			haveAS4 = true
			for _, p := range a.Value {
				as4 = append(as4, rov.Segment{Type: rov.SegmentType(p.Type), ASNs: append([]uint32(nil), p.AS...)})
			}
		case *bgp.PathAttributeNextHop:
			nh = netip.AddrFrom4([4]byte(a.Value.To4()))
		case *bgp.PathAttributeMpReachNLRI:
			nhMP = nextHop(a.Nexthop)
		}
	}
	if as2 && haveAS4 {
		if m, _, ok := mergeAS4(path, as4, nil, nil); ok {
			path = m
		}
	}
	return path, nh, nhMP
}

func gobgpSegments(v []bgp.AsPathParamInterface) []rov.Segment {
	var out []rov.Segment
	for _, p := range v {
		out = append(out, rov.Segment{Type: rov.SegmentType(p.GetType()), ASNs: append([]uint32(nil), p.GetAS()...)})
	}
	return out
}
