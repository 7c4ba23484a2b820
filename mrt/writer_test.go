package mrt

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

var writerTime = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// smallTable is the golden table: every encoding choice of the Writer
// appears once.
func smallTable() ([]route.Peer, []route.Route) {
	peers := []route.Peer{
		{AS: 64500, IP: netip.MustParseAddr("192.0.2.1"), BGPID: netip.MustParseAddr("192.0.2.1")},
		{AS: 4200000001, IP: netip.MustParseAddr("2001:db8::2"), BGPID: netip.MustParseAddr("198.51.100.2")},
	}
	for i := range peers {
		peers[i].Index = i
	}
	seq := func(a ...uint32) rov.Segment { return rov.Segment{Type: rov.ASSequence, ASNs: a} }
	set := func(a ...uint32) rov.Segment { return rov.Segment{Type: rov.ASSet, ASNs: a} }
	routes := []route.Route{
		// RFC 6396 §4.3.4: NEXT_HOP for an IPv4 prefix, 4-byte ASN in AS_PATH.
		{Peer: peers[0], Prefix: netip.MustParsePrefix("192.0.2.0/24"), Path: []rov.Segment{seq(64500, 4200000000)}, NextHop: netip.MustParseAddr("192.0.2.1"), RPKIState: route.RPKIAbsent},
		// Two peers for one prefix, one with an AS_SET and the RFC 8097 state.
		{Peer: peers[0], Prefix: netip.MustParsePrefix("198.51.100.0/22"), Path: []rov.Segment{seq(64500, 64501), set(64502, 64503)}, NextHop: netip.MustParseAddr("192.0.2.1"), RPKIState: route.RPKIInvalid},
		{Peer: peers[1], Prefix: netip.MustParsePrefix("198.51.100.0/22"), Path: []rov.Segment{seq(4200000001, 64501)}, NextHop: netip.MustParseAddr("2001:db8::2"), RPKIState: route.RPKIAbsent},
		// RFC 8050 §4: path ids make the record an ADDPATH subtype.
		{Peer: peers[0], Prefix: netip.MustParsePrefix("203.0.113.128/25"), PathID: 1, Path: []rov.Segment{seq(64500, 64510)}, NextHop: netip.MustParseAddr("192.0.2.1"), RPKIState: route.RPKIAbsent},
		{Peer: peers[0], Prefix: netip.MustParsePrefix("203.0.113.128/25"), PathID: 7, Path: []rov.Segment{seq(64500, 64520, 64510)}, NextHop: netip.MustParseAddr("192.0.2.9"), RPKIState: route.RPKIValid},
		// IPv6: abbreviated MP_REACH_NLRI next hop; empty AS_PATH (iBGP
		// origin, RFC 6811 §2 "the BGP speaker's own AS").
		{Peer: peers[1], Prefix: netip.MustParsePrefix("2001:db8:100::/40"), Path: nil, NextHop: netip.MustParseAddr("2001:db8::2"), RPKIState: route.RPKINotFound},
		{Peer: peers[1], Prefix: netip.MustParsePrefix("2001:db8:200::/48"), PathID: 3, Path: []rov.Segment{seq(4200000001, 64496)}, NextHop: netip.MustParseAddr("2001:db8::2"), RPKIState: route.RPKIAbsent},
	}
	return peers, routes
}

func writeTable(t testing.TB, peers []route.Peer, routes []route.Route) ([]byte, WriterStats) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, WriterOptions{Time: writerTime, CollectorID: netip.MustParseAddr("192.0.2.254"), ViewName: "rovimpact"})
	if err := w.WritePeers(peers); err != nil {
		t.Fatal(err)
	}
	for i := range routes {
		routes[i].Kind = route.Announce
		if err := w.Add(&routes[i]); err != nil {
			t.Fatalf("Add %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := w.Stats().Bytes; got != int64(buf.Len()) {
		t.Errorf("Stats().Bytes = %d, wrote %d", got, buf.Len())
	}
	return buf.Bytes(), w.Stats()
}

// writerLine renders what a dump must preserve: eventLine plus the RFC 8097
// state.
func writerLine(r *route.Route) string { return fmt.Sprintf("%s|%d", eventLine(r), r.RPKIState) }

// TestWriterGolden pins the bytes of the small table (RFC 6396 §4.3 and
// RFC 8050 §4 layout) and checks the read-back: same routes, one record per
// prefix, ADDPATH subtypes only where a path id is set.
func TestWriterGolden(t *testing.T) {
	peers, routes := smallTable()
	data, st := writeTable(t, peers, routes)
	golden := filepath.Join("testdata", "writer", "small.mrt")
	if updateGolden() {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("bytes differ from %s:\n got %s\nwant %s", golden, hex.EncodeToString(data), hex.EncodeToString(want))
	}
	if st.Records != 6 || st.Entries != int64(len(routes)) {
		t.Errorf("Stats = %+v, want 6 records (peer table + 5 prefixes), %d entries", st, len(routes))
	}
	var subs []uint16
	for _, rec := range splitRecords(data) {
		subs = append(subs, uint16(rec[6])<<8|uint16(rec[7]))
	}
	wantSubs := []uint16{tdPeerIndexTable, tdRIBIPv4Unicast, tdRIBIPv4Unicast, tdRIBIPv4UnicastAP, tdRIBIPv6Unicast, tdRIBIPv6UnicastAP}
	if fmt.Sprint(subs) != fmt.Sprint(wantSubs) {
		t.Errorf("subtypes %v, want %v", subs, wantSubs)
	}
	rd := NewReader(bytes.NewReader(data), Options{Name: "small.mrt"})
	var got []string
	for rd.Next() {
		r := rd.Route()
		got = append(got, writerLine(r))
		if !r.Time.Equal(writerTime) {
			t.Errorf("%s: time %v, want the dump time %v", r.Prefix, r.Time, writerTime)
		}
	}
	if rd.Err() != nil || len(rd.Stats().Skipped) != 0 {
		t.Fatalf("read back: err %v, skipped %v", rd.Err(), rd.Stats().Skipped)
	}
	var wantLines []string
	for i := range routes {
		wantLines = append(wantLines, writerLine(&routes[i]))
	}
	compareLines(t, got, wantLines)
	if rp := rd.Peers(); len(rp) != 2 || rp[1].BGPID != peers[1].BGPID || rp[1].AS != peers[1].AS {
		t.Errorf("peers read back %+v, want %+v", rp, peers)
	}
}

// randomRIB fills a RIB with seeded random paths from n peers: IPv4 and
// IPv6 peers and prefixes, AS_SET and confed segments, long paths that need
// several segments (over 255 ASNs) and the extended attribute length,
// ADD-PATH ids, next hops of the other family (RFC 8950), RPKI states.
func randomRIB(seed uint64, n, paths int) *RIB {
	rng := rand.New(rand.NewPCG(seed, 7))
	rib := NewRIB()
	var peers []route.PeerKey
	for i := range n {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		if i%3 == 2 {
			ip = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
		}
		peers = append(peers, route.PeerKey{AS: 64500 + uint32(i)*70000, IP: ip})
	}
	var r route.Route
	for range paths {
		r = route.Route{Kind: route.Announce, RPKIState: route.RPKIState(rng.IntN(4) - 1)}
		if rng.IntN(4) == 0 {
			var a [16]byte
			a[0], a[1] = 0x20, 0x01
			a[2] = byte(rng.IntN(4))
			a[3] = byte(rng.IntN(256))
			r.Prefix = netip.PrefixFrom(netip.AddrFrom16(a), 16+rng.IntN(113)).Masked()
			r.NextHop = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(rng.IntN(256))})
		} else {
			r.Prefix = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(1 + rng.IntN(50)), byte(rng.IntN(256)), byte(rng.IntN(256)), 0}), rng.IntN(33)).Masked()
			r.NextHop = netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(256))})
		}
		switch rng.IntN(20) {
		case 0:
			r.NextHop = netip.Addr{}
		case 1:
			r.NextHop = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}) // RFC 8950
		}
		if rng.IntN(5) == 0 {
			r.PathID = uint32(rng.IntN(4))
		}
		plen := 1 + rng.IntN(6)
		if rng.IntN(200) == 0 {
			plen = 300 // a prepend storm: two segments, extended length
		}
		seq := rov.Segment{Type: rov.ASSequence}
		for range plen {
			seq.ASNs = append(seq.ASNs, uint32(rng.IntN(1<<20)))
		}
		r.Path = []rov.Segment{seq}
		switch rng.IntN(30) {
		case 0:
			r.Path = append(r.Path, rov.Segment{Type: rov.ASSet, ASNs: []uint32{1, 2}})
		case 1:
			r.Path = append([]rov.Segment{{Type: rov.ASConfedSequence, ASNs: []uint32{65001}}}, r.Path...)
		case 2:
			r.Path = nil
		}
		rib.Apply(&r, peers[rng.IntN(n)])
	}
	return rib
}

// dumpRIB writes rib through the Writer, as watch --dump does.
func dumpRIB(t testing.TB, rib *RIB) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, WriterOptions{Time: writerTime})
	var peers []route.Peer
	for i, k := range rib.Peers() {
		peers = append(peers, route.Peer{Index: i, AS: k.AS, IP: k.IP})
	}
	if err := w.WritePeers(peers); err != nil {
		t.Fatal(err)
	}
	for r := range rib.All() {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// splitLongPaths renders a path as the Writer must write it: segments of
// at most 255 ASNs (RFC 4271 §4.3, a one-octet segment length).
func splitLongPaths(p []rov.Segment) []rov.Segment {
	var out []rov.Segment
	for _, s := range p {
		for i := 0; i < len(s.ASNs); i += maxSegment {
			out = append(out, rov.Segment{Type: s.Type, ASNs: s.ASNs[i:min(i+maxSegment, len(s.ASNs))]})
		}
	}
	return out
}

// TestWriterRoundTrip replays random tables through Writer then Reader:
// every path comes back, in order, with its peer, path id, AS path, next
// hop and RPKI state, and nothing is skipped.
func TestWriterRoundTrip(t *testing.T) {
	for _, tc := range []struct{ peers, paths int }{{1, 2000}, {3, 5000}, {40, 3000}} {
		t.Run(fmt.Sprintf("%dpeers", tc.peers), func(t *testing.T) {
			rib := randomRIB(uint64(tc.peers), tc.peers, tc.paths)
			data := dumpRIB(t, rib)
			var want []string
			for r := range rib.All() {
				c := *r
				c.Path = splitLongPaths(r.Path)
				want = append(want, writerLine(&c))
			}
			rd := NewReader(bytes.NewReader(data), Options{Name: "roundtrip"})
			var got []string
			for rd.Next() {
				got = append(got, writerLine(rd.Route()))
			}
			if rd.Err() != nil || len(rd.Stats().Skipped) != 0 {
				t.Fatalf("read back: err %v, skipped %v", rd.Err(), rd.Stats().Skipped)
			}
			compareLines(t, got, want)
		})
	}
}

// TestWriterBgpdump reads a written dump with Debian bgpdump -m: the oracle
// that the bytes follow RFC 6396 and RFC 8050, not just our own reader.
func TestWriterBgpdump(t *testing.T) {
	rib := randomRIB(42, 5, 3000)
	data := dumpRIB(t, rib)
	f := filepath.Join(t.TempDir(), "dump.mrt")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	lines, _ := bgpdumpLines(t, f)
	var want []string
	for r := range rib.All() {
		c := *r
		c.Path = splitLongPaths(r.Path)
		want = append(want, fmt.Sprintf("%d.000000|%s", writerTime.Unix(), eventLine(&c)))
	}
	compareLines(t, lines, want)
}

// TestWriterErrors: misuse is refused with an error naming what was wrong;
// a bad route leaves the Writer usable (ErrBadRoute), a broken order does
// not.
func TestWriterErrors(t *testing.T) {
	p := route.Peer{AS: 1, IP: netip.MustParseAddr("192.0.2.1")}
	ok := route.Route{Kind: route.Announce, Peer: p, Prefix: netip.MustParsePrefix("192.0.2.0/24")}
	tests := []struct {
		name    string
		route   route.Route
		bad     bool   // ErrBadRoute, Writer still usable
		errPart string // substring of the error
	}{
		{"withdrawal is not a RIB entry", route.Route{Kind: route.Withdraw, Peer: p, Prefix: ok.Prefix}, true, "only announcements"},
		{"no prefix", route.Route{Kind: route.Announce, Peer: p}, true, "invalid prefix"},
		{"peer index beyond the PEER_INDEX_TABLE", route.Route{Kind: route.Announce, Peer: route.Peer{Index: 3}, Prefix: ok.Prefix}, true, "peer index 3"},
		{"RFC 4271 §4.3 attribute length overflow", route.Route{Kind: route.Announce, Peer: p, Prefix: ok.Prefix, Path: []rov.Segment{{Type: rov.ASSequence, ASNs: make([]uint32, 17000)}}}, true, "exceed 65535"},
		{"prefix out of order", route.Route{Kind: route.Announce, Peer: p, Prefix: netip.MustParsePrefix("10.0.0.0/8")}, false, "must arrive in order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter(io.Discard, WriterOptions{Time: writerTime})
			if err := w.WritePeers([]route.Peer{p}); err != nil {
				t.Fatal(err)
			}
			if err := w.Add(&ok); err != nil {
				t.Fatal(err)
			}
			err := w.Add(&tt.route)
			if err == nil || !strings.Contains(err.Error(), tt.errPart) {
				t.Fatalf("Add: got %v, want an error containing %q", err, tt.errPart)
			}
			if got := errors.Is(err, ErrBadRoute); got != tt.bad {
				t.Errorf("errors.Is(ErrBadRoute) = %v, want %v", got, tt.bad)
			}
			next := ok
			next.Prefix = netip.MustParsePrefix("203.0.113.0/24")
			if err := w.Add(&next); (err == nil) != tt.bad {
				t.Errorf("Add after the error: %v, want usable=%v", err, tt.bad)
			}
		})
	}
	w := NewWriter(io.Discard, WriterOptions{})
	if err := w.Add(&ok); err == nil {
		t.Error("Add before WritePeers: no error")
	}
}

// TestWriterSplitsRecords: a prefix with more paths than one record's
// 2-octet entry count (RFC 6396 §4.3.2) is split into several records that
// read back whole.
func TestWriterSplitsRecords(t *testing.T) {
	peers := []route.Peer{{AS: 1, IP: netip.MustParseAddr("192.0.2.1")}}
	var buf bytes.Buffer
	w := NewWriter(&buf, WriterOptions{Time: writerTime})
	if err := w.WritePeers(peers); err != nil {
		t.Fatal(err)
	}
	r := route.Route{Kind: route.Announce, Peer: peers[0], Prefix: netip.MustParsePrefix("192.0.2.0/24"), Path: []rov.Segment{{Type: rov.ASSequence, ASNs: []uint32{1}}}}
	const n = maxEntries + 10
	for i := range n {
		r.PathID = uint32(i + 1)
		if err := w.Add(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := w.Stats().Records; got != 3 {
		t.Errorf("records %d, want 3 (peer table + 2 RIB)", got)
	}
	rd := NewReader(bytes.NewReader(buf.Bytes()), Options{})
	cnt := 0
	for rd.Next() {
		cnt++
		if rd.Route().PathID != uint32(cnt) {
			t.Fatalf("entry %d: path id %d", cnt, rd.Route().PathID)
		}
	}
	if cnt != n || rd.Err() != nil {
		t.Errorf("read %d entries (err %v), want %d", cnt, rd.Err(), n)
	}
}

// FuzzWriterRoundTrip reads arbitrary MRT with the Reader, replays it into a
// RIB, dumps the RIB with the Writer and reads the dump back. Invariants:
// the dump reads without error or skipped record, and yields exactly the
// RIB's paths, in order, with every field a dump keeps. Seeds are the real
// files of testdata/.
func FuzzWriterRoundTrip(f *testing.F) {
	for _, name := range localFiles(f) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 8<<10 {
			data = data[:8<<10]
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewReader(bytes.NewReader(data), Options{})
		rib := NewRIB()
		for rd.Next() {
			r := rd.Route()
			rib.Apply(r, route.KeyOf(r.Peer))
		}
		if len(rib.Peers()) > 0xffff {
			return
		}
		var want []string
		for r := range rib.All() {
			c := *r
			c.Path = splitLongPaths(r.Path)
			want = append(want, writerLine(&c))
		}
		var buf bytes.Buffer
		w := NewWriter(&buf, WriterOptions{Time: writerTime})
		var peers []route.Peer
		for i, k := range rib.Peers() {
			peers = append(peers, route.Peer{Index: i, AS: k.AS, IP: k.IP})
		}
		if err := w.WritePeers(peers); err != nil {
			t.Fatal(err)
		}
		for r := range rib.All() {
			if err := w.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		back := NewReader(bytes.NewReader(buf.Bytes()), Options{})
		var got []string
		for back.Next() {
			got = append(got, writerLine(back.Route()))
		}
		if back.Err() != nil || len(back.Stats().Skipped) != 0 {
			t.Fatalf("read back: err %v, skipped %v", back.Err(), back.Stats().Skipped)
		}
		compareLines(t, got, want)
	})
}

// BenchmarkWriter measures the dump write rate (paths/s) of a 3-peer
// table from the RIB, as watch --dump writes it; the baseline is the RIB
// iteration alone, so the ratio is the Writer's own cost.
func BenchmarkWriter(b *testing.B) {
	rib := randomRIB(1, 3, 300_000)
	peers := make([]route.Peer, len(rib.Peers()))
	for i, k := range rib.Peers() {
		peers[i] = route.Peer{Index: i, AS: k.AS, IP: k.IP}
	}
	b.Run("iterate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for range rib.All() {
				n++
			}
		}
		b.ReportMetric(float64(rib.Len())*float64(b.N)/b.Elapsed().Seconds(), "paths/s")
	})
	b.Run("write", func(b *testing.B) {
		b.ReportAllocs()
		var bytes int64
		for b.Loop() {
			w := NewWriter(io.Discard, WriterOptions{Time: writerTime})
			if err := w.WritePeers(peers); err != nil {
				b.Fatal(err)
			}
			for r := range rib.All() {
				if err := w.Add(r); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			bytes = w.Stats().Bytes
		}
		b.SetBytes(bytes)
		b.ReportMetric(float64(rib.Len())*float64(b.N)/b.Elapsed().Seconds(), "paths/s")
	})
}
