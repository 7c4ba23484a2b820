package reports

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// TestRouteLines pins each rule of the text, JSON and CSV layouts on
// hand-built events.
func TestRouteLines(t *testing.T) {
	ts := time.Date(2025, 7, 20, 10, 1, 43, 0, time.UTC)
	peer := route.Peer{AS: 64500, IP: netip.MustParseAddr("192.0.2.1")}
	seq := func(a ...uint32) rov.Segment { return rov.Segment{Type: rov.ASSequence, ASNs: a} }
	tests := []struct {
		name       string
		r          route.Route
		text, json string
		csv        string
	}{
		{
			name: "RIB entry: origin is the last AS of the final AS_SEQUENCE (RFC 6811 §2)",
			r: route.Route{Kind: route.Announce, Time: ts, Peer: peer, Prefix: netip.MustParsePrefix("198.51.100.0/24"),
				Path: []rov.Segment{seq(64500, 64501, 64502)}, Origin: rov.Origin{ASN: 64502},
				NextHop: netip.MustParseAddr("192.0.2.1"), RPKIState: route.RPKIAbsent},
			text: "TABLE_DUMP2|1753005703|B|192.0.2.1|64500|198.51.100.0/24|64500 64501 64502|64502|0|192.0.2.1|\n",
			json: `{"time":"2025-07-20T10:01:43Z","type":"rib","peer_ip":"192.0.2.1","peer_as":64500,"prefix":"198.51.100.0/24","path_id":0,"as_path":"64500 64501 64502","origin":"64502","next_hop":"192.0.2.1","rpki_state":""}` + "\n",
			csv:  "2025-07-20T10:01:43Z,rib,192.0.2.1,64500,198.51.100.0/24,0,64500 64501 64502,64502,192.0.2.1,\n",
		},
		{
			name: "final AS_SET: origin NONE (RFC 6811 §2), set as {a,b} like bgpdump, quoted in CSV (RFC 4180 §2.6)",
			r: route.Route{Kind: route.Announce, Time: ts, Peer: peer, Prefix: netip.MustParsePrefix("198.51.100.0/24"), FromUpdate: true,
				Path: []rov.Segment{seq(64500), {Type: rov.ASSet, ASNs: []uint32{64510, 64511}}}, Origin: rov.Origin{Kind: rov.OriginNone},
				NextHop: netip.MustParseAddr("192.0.2.1"), RPKIState: route.RPKIInvalid},
			text: "BGP4MP|1753005703|A|192.0.2.1|64500|198.51.100.0/24|64500 {64510,64511}|NONE|0|192.0.2.1|invalid\n",
			json: `{"time":"2025-07-20T10:01:43Z","type":"announce","peer_ip":"192.0.2.1","peer_as":64500,"prefix":"198.51.100.0/24","path_id":0,"as_path":"64500 {64510,64511}","origin":"NONE","next_hop":"192.0.2.1","rpki_state":"invalid"}` + "\n",
			csv:  "2025-07-20T10:01:43Z,announce,192.0.2.1,64500,198.51.100.0/24,0,\"64500 {64510,64511}\",NONE,192.0.2.1,invalid\n",
		},
		{
			name: "empty AS_PATH (iBGP-originated): origin LOCAL (RFC 6811 §2); RFC 8097 valid state",
			r: route.Route{Kind: route.Announce, Time: ts, Peer: peer, Prefix: netip.MustParsePrefix("2001:db8::/32"),
				Origin: rov.Origin{Kind: rov.OriginLocal}, NextHop: netip.MustParseAddr("2001:db8::1"), RPKIState: route.RPKIValid},
			text: "TABLE_DUMP2|1753005703|B|192.0.2.1|64500|2001:db8::/32||LOCAL|0|2001:db8::1|valid\n",
			json: `{"time":"2025-07-20T10:01:43Z","type":"rib","peer_ip":"192.0.2.1","peer_as":64500,"prefix":"2001:db8::/32","path_id":0,"as_path":"","origin":"LOCAL","next_hop":"2001:db8::1","rpki_state":"valid"}` + "\n",
			csv:  "2025-07-20T10:01:43Z,rib,192.0.2.1,64500,2001:db8::/32,0,,LOCAL,2001:db8::1,valid\n",
		},
		{
			name: "confederation segments (RFC 5065 §3) as (a b) and [a,b]; final confed segment: origin LOCAL",
			r: route.Route{Kind: route.Announce, Time: ts, Peer: peer, Prefix: netip.MustParsePrefix("198.51.100.0/24"),
				Path:   []rov.Segment{{Type: rov.ASConfedSequence, ASNs: []uint32{65001, 65002}}, {Type: rov.ASConfedSet, ASNs: []uint32{65003, 65004}}},
				Origin: rov.Origin{Kind: rov.OriginLocal}, RPKIState: route.RPKINotFound},
			text: "TABLE_DUMP2|1753005703|B|192.0.2.1|64500|198.51.100.0/24|(65001 65002) [65003,65004]|LOCAL|0||not_found\n",
			json: `{"time":"2025-07-20T10:01:43Z","type":"rib","peer_ip":"192.0.2.1","peer_as":64500,"prefix":"198.51.100.0/24","path_id":0,"as_path":"(65001 65002) [65003,65004]","origin":"LOCAL","next_hop":"","rpki_state":"not_found"}` + "\n",
			csv:  "2025-07-20T10:01:43Z,rib,192.0.2.1,64500,198.51.100.0/24,0,\"(65001 65002) [65003,65004]\",LOCAL,,not_found\n",
		},
		{
			name: "withdrawal under ADD-PATH keeps its path id (RFC 7911 §3), nothing else",
			r: route.Route{Kind: route.Withdraw, Time: ts, Peer: peer, Prefix: netip.MustParsePrefix("198.51.100.0/24"), PathID: 7, FromUpdate: true,
				RPKIState: route.RPKIAbsent},
			text: "BGP4MP|1753005703|W|192.0.2.1|64500|198.51.100.0/24|||7||\n",
			json: `{"time":"2025-07-20T10:01:43Z","type":"withdraw","peer_ip":"192.0.2.1","peer_as":64500,"prefix":"198.51.100.0/24","path_id":7,"as_path":"","origin":"","next_hop":"","rpki_state":""}` + "\n",
			csv:  "2025-07-20T10:01:43Z,withdraw,192.0.2.1,64500,198.51.100.0/24,7,,,,\n",
		},
		{
			name: "peer down (STATE_CHANGE leaving Established, RFC 6396 §4.4.1): no prefix",
			r:    route.Route{Kind: route.PeerDown, Time: ts.Add(123456 * time.Microsecond), Peer: peer, FromUpdate: true, RPKIState: route.RPKIAbsent},
			text: "BGP4MP|1753005703|STATE|192.0.2.1|64500||||||\n",
			json: `{"time":"2025-07-20T10:01:43.123456Z","type":"peer_down","peer_ip":"192.0.2.1","peer_as":64500,"prefix":"","path_id":0,"as_path":"","origin":"","next_hop":"","rpki_state":""}` + "\n",
			csv:  "2025-07-20T10:01:43.123456Z,peer_down,192.0.2.1,64500,,0,,,,\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendRouteText(nil, &tt.r)); got != tt.text {
				t.Errorf("text:\n got %q\nwant %q", got, tt.text)
			}
			if got := string(appendRouteJSON(nil, &tt.r)); got != tt.json {
				t.Errorf("json:\n got %s\nwant %s", got, tt.json)
			}
			if got := string(appendRouteCSV(nil, &tt.r)); got != tt.csv {
				t.Errorf("csv:\n got %q\nwant %q", got, tt.csv)
			}
			if !json.Valid([]byte(tt.json)) {
				t.Errorf("want is not valid JSON")
			}
		})
	}
}

// BenchmarkRouteText measures formatting alone on the largest sample: the
// per-route cost the routes command adds on top of the reader.
func BenchmarkRouteText(b *testing.B) {
	f, err := os.Open(filepath.Join("..", "cmd", "rovimpact", "testdata", "routes", "mrtparse.quagga_bgp.mrt"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r := mrt.NewReader(f, mrt.Options{})
	var routes []route.Route
	for r.Next() {
		rt := *r.Route()
		rt.Path = nil
		for _, s := range r.Route().Path {
			rt.Path = append(rt.Path, rov.Segment{Type: s.Type, ASNs: append([]uint32(nil), s.ASNs...)})
		}
		routes = append(routes, rt)
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		for i := range routes {
			buf = appendRouteText(buf[:0], &routes[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(routes)), "ns/route")
}
