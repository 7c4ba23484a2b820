package bgpdumptext

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

var textUpdate = flag.Bool("update", false, "rewrite golden files under testdata/text")

func textReadAll(t *testing.T, in string) ([]route.Route, *Reader) {
	t.Helper()
	tr := NewReader(strings.NewReader(in), "test")
	var got []route.Route
	for tr.Next() {
		r := *tr.Route()
		r.Path = textClonePath(r.Path)
		got = append(got, r)
	}
	return got, tr
}

func textClonePath(p []rov.Segment) []rov.Segment {
	if len(p) == 0 {
		return nil
	}
	out := make([]rov.Segment, len(p))
	for i, s := range p {
		out[i] = rov.Segment{Type: s.Type, ASNs: append([]uint32(nil), s.ASNs...)}
	}
	return out
}

func seq(a ...uint32) rov.Segment  { return rov.Segment{Type: rov.ASSequence, ASNs: a} }
func set(a ...uint32) rov.Segment  { return rov.Segment{Type: rov.ASSet, ASNs: a} }
func cseq(a ...uint32) rov.Segment { return rov.Segment{Type: rov.ASConfedSequence, ASNs: a} }
func cset(a ...uint32) rov.Segment { return rov.Segment{Type: rov.ASConfedSet, ASNs: a} }

// TestTextLines pins each bgpdump -m line form and the plain form to the
// Route it must become. Lines are real bgpdump 1.6.2 output from the files
// in shared/data/mrt unless noted.
func TestTextLines(t *testing.T) {
	p := netip.MustParsePrefix
	a := netip.MustParseAddr
	tests := []struct {
		name string
		line string
		want route.Route
	}{{
		name: "TABLE_DUMP2 RIB entry (rib.20140523 route-views2)",
		line: "TABLE_DUMP2|1400824800|B|157.130.10.233|701|1.0.0.0/24|701 6453 15169|IGP|157.130.10.233|0|0||NAG||",
		want: route.Route{Kind: route.Announce, Time: time.Unix(1400824800, 0).UTC(), Peer: route.Peer{AS: 701, IP: a("157.130.10.233")},
			Prefix: p("1.0.0.0/24"), Path: []rov.Segment{seq(701, 6453, 15169)}, Origin: rov.Origin{ASN: 15169},
			NextHop: a("157.130.10.233"), RPKIState: route.RPKIAbsent},
	}, {
		name: "TABLE_DUMP v1 with AS_SET: origin NONE, RFC 6811 §2 (bview.20020722 rrc05)",
		line: "TABLE_DUMP|1027381055|B|193.203.0.1|1853|24.223.0.0/18|1853 1239 13659 {13659,701}|IGP|193.203.0.1|0|0||NAG||",
		want: route.Route{Kind: route.Announce, Time: time.Unix(1027381055, 0).UTC(), Peer: route.Peer{AS: 1853, IP: a("193.203.0.1")},
			Prefix: p("24.223.0.0/18"), Path: []rov.Segment{seq(1853, 1239, 13659), set(13659, 701)},
			Origin: rov.Origin{Kind: rov.OriginNone}, NextHop: a("193.203.0.1"), RPKIState: route.RPKIAbsent},
	}, {
		name: "TABLE_DUMP2_AP: RFC 8050 path id after the prefix (bird add-path sample)",
		line: "TABLE_DUMP2_AP|1452168107|B|10.0.15.1|65015|10.0.10.0/24|36|65015 65014 65013 65012 65011|IGP|10.0.15.1|100|0||NAG||",
		want: route.Route{Kind: route.Announce, Time: time.Unix(1452168107, 0).UTC(), Peer: route.Peer{AS: 65015, IP: a("10.0.15.1")},
			Prefix: p("10.0.10.0/24"), PathID: 36, Path: []rov.Segment{seq(65015, 65014, 65013, 65012, 65011)},
			Origin: rov.Origin{ASN: 65011}, NextHop: a("10.0.15.1"), RPKIState: route.RPKIAbsent},
	}, {
		name: "BGP4MP announce over IPv6 session (rrc21)",
		line: "BGP4MP|1470931200|A|2001:7f8:54::188|59689|2804:14d::/40|59689 6939 3356 4230 28573|IGP|2001:7f8:54::10|0|0|59689:200 59689:240|NAG||",
		want: route.Route{Kind: route.Announce, Time: time.Unix(1470931200, 0).UTC(), Peer: route.Peer{AS: 59689, IP: a("2001:7f8:54::188")},
			Prefix: p("2804:14d::/40"), Path: []rov.Segment{seq(59689, 6939, 3356, 4230, 28573)}, Origin: rov.Origin{ASN: 28573},
			NextHop: a("2001:7f8:54::10"), RPKIState: route.RPKIAbsent, FromUpdate: true},
	}, {
		name: "BGP4MP_ET: microsecond timestamp (route-views2 2026)",
		line: "BGP4MP_ET|1771774200.692440|A|89.149.178.10|3257|185.56.142.0/23|3257 174 59865|INCOMPLETE|89.149.178.10|0|10|3257:8213|NAG||",
		want: route.Route{Kind: route.Announce, Time: time.Unix(1771774200, 692440000).UTC(), Peer: route.Peer{AS: 3257, IP: a("89.149.178.10")},
			Prefix: p("185.56.142.0/23"), Path: []rov.Segment{seq(3257, 174, 59865)}, Origin: rov.Origin{ASN: 59865},
			NextHop: a("89.149.178.10"), RPKIState: route.RPKIAbsent, FromUpdate: true},
	}, {
		name: "BGP4MP_AP announce, 32-bit ASNs (mrtparse bird-mrtdump_bgp)",
		line: "BGP4MP_AP|1486801678|A|192.168.0.10|65000|172.17.0.0/24|2|4200000000 4200000000 64512|IGP|192.168.0.10|100|10|65000:100|NAG||",
		want: route.Route{Kind: route.Announce, Time: time.Unix(1486801678, 0).UTC(), Peer: route.Peer{AS: 65000, IP: a("192.168.0.10")},
			Prefix: p("172.17.0.0/24"), PathID: 2, Path: []rov.Segment{seq(4200000000, 4200000000, 64512)}, Origin: rov.Origin{ASN: 64512},
			NextHop: a("192.168.0.10"), RPKIState: route.RPKIAbsent, FromUpdate: true},
	}, {
		name: "BGP4MP announce with empty AS_PATH: origin is the local AS, RFC 6811 §2 (openbgpd_bgp)",
		line: "BGP4MP|1444841517|A|2001:db8:0:1::10|65000|2001:db8:0:6::/64||INCOMPLETE|2001:db8:0:1::10|100|0||NAG||",
		want: route.Route{Kind: route.Announce, Time: time.Unix(1444841517, 0).UTC(), Peer: route.Peer{AS: 65000, IP: a("2001:db8:0:1::10")},
			Prefix: p("2001:db8:0:6::/64"), Origin: rov.Origin{Kind: rov.OriginLocal},
			NextHop: a("2001:db8:0:1::10"), RPKIState: route.RPKIAbsent, FromUpdate: true},
	}, {
		name: "confederation segments as bgpdump prints them: (seq) [set] (bgpdump_lib.c aspath_delimiter_char; synthetic)",
		line: "BGP4MP|1|A|192.0.2.1|64512|192.0.2.0/24|(64512 64513) [64514,64515] 3356 {1,2} 64500|IGP|192.0.2.1|0|0||NAG||",
		want: route.Route{Kind: route.Announce, Time: time.Unix(1, 0).UTC(), Peer: route.Peer{AS: 64512, IP: a("192.0.2.1")},
			Prefix: p("192.0.2.0/24"), Path: []rov.Segment{cseq(64512, 64513), cset(64514, 64515), seq(3356), set(1, 2), seq(64500)},
			Origin: rov.Origin{ASN: 64500}, NextHop: a("192.0.2.1"), RPKIState: route.RPKIAbsent, FromUpdate: true},
	}, {
		name: "final AS_CONFED_SEQUENCE: origin is the local AS, RFC 6811 §2 (synthetic)",
		line: "BGP4MP|1|A|192.0.2.1|64512|192.0.2.0/24|(64512 64513)|IGP|192.0.2.1|0|0||NAG||",
		want: route.Route{Kind: route.Announce, Time: time.Unix(1, 0).UTC(), Peer: route.Peer{AS: 64512, IP: a("192.0.2.1")},
			Prefix: p("192.0.2.0/24"), Path: []rov.Segment{cseq(64512, 64513)},
			Origin: rov.Origin{Kind: rov.OriginLocal}, NextHop: a("192.0.2.1"), RPKIState: route.RPKIAbsent, FromUpdate: true},
	}, {
		name: "BGP4MP withdraw (jinx)",
		line: "BGP4MP|1427846430|W|196.223.14.55|30844|185.75.149.0/24",
		want: route.Route{Kind: route.Withdraw, Time: time.Unix(1427846430, 0).UTC(), Peer: route.Peer{AS: 30844, IP: a("196.223.14.55")},
			Prefix: p("185.75.149.0/24"), RPKIState: route.RPKIAbsent, FromUpdate: true},
	}, {
		name: "BGP4MP_AP withdraw carries the path id last (bgpdump.c table_line_withdraw; synthetic)",
		line: "BGP4MP_AP|1486801678|W|192.168.0.10|65000|172.17.0.0/24|2",
		want: route.Route{Kind: route.Withdraw, Time: time.Unix(1486801678, 0).UTC(), Peer: route.Peer{AS: 65000, IP: a("192.168.0.10")},
			Prefix: p("172.17.0.0/24"), PathID: 2, RPKIState: route.RPKIAbsent, FromUpdate: true},
	}, {
		name: "STATE Established(6) -> Idle(1) is PeerDown, RFC 4271 §8.2.2 (rrc21)",
		line: "BGP4MP|1470931201|STATE|37.49.232.25|60427|6|1",
		want: route.Route{Kind: route.PeerDown, Time: time.Unix(1470931201, 0).UTC(), Peer: route.Peer{AS: 60427, IP: a("37.49.232.25")},
			RPKIState: route.RPKIAbsent, FromUpdate: true},
	}, {
		name: "plain prefix origin",
		line: "192.0.2.0/24 64500",
		want: route.Route{Kind: route.Announce, Prefix: p("192.0.2.0/24"), Path: []rov.Segment{seq(64500)}, Origin: rov.Origin{ASN: 64500}, RPKIState: route.RPKIAbsent},
	}, {
		name: "plain with AS prefix, comma and trailing comment",
		line: "2001:db8::/32,AS64500 # lab",
		want: route.Route{Kind: route.Announce, Prefix: p("2001:db8::/32"), Path: []rov.Segment{seq(64500)}, Origin: rov.Origin{ASN: 64500}, RPKIState: route.RPKIAbsent},
	}, {
		name: "plain prefix with host bits is masked, RFC 4271 §4.3 trailing bits irrelevant",
		line: "192.0.2.77/24\tas64500",
		want: route.Route{Kind: route.Announce, Prefix: p("192.0.2.0/24"), Path: []rov.Segment{seq(64500)}, Origin: rov.Origin{ASN: 64500}, RPKIState: route.RPKIAbsent},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, tr := textReadAll(t, "# header\n\n"+tt.line+"\n")
			if err := tr.Err(); err != nil {
				t.Fatalf("Err() = %v", err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d routes, want 1 (stats %+v)", len(got), tr.Stats())
			}
			if !reflect.DeepEqual(got[0], tt.want) {
				t.Errorf("got  %+v\nwant %+v", got[0], tt.want)
			}
		})
	}
}

// TestTextSkippedLines pins the lines that are valid but carry no route.
func TestTextSkippedLines(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		reason string
	}{
		{"state change not leaving Established (bird-mrtdump_bgp)", "BGP4MP|1486801678|STATE|192.168.0.10|65000|3|2", "state_change"},
		{"state change into Established (pch)", "BGP4MP_ET|1445565686.357655|STATE|206.220.231.55|3856|5|6", "state_change"},
		{"LOCAL announce: a route the collector sent, not learned", "BGP4MP_LOCAL|1|A|192.0.2.1|64500|192.0.2.0/24|64496 64500|IGP|192.0.2.2|0|0||NAG||", "bgp4mp_local"},
		{"LOCAL withdraw", "BGP4MP_ET_LOCAL_AP|1.5|W|192.0.2.1|64500|192.0.2.0/24|7", "bgp4mp_local"},
		{"LOCAL ADD-PATH announce (RFC 8050 §3)", "BGP4MP_LOCAL_AP|1|A|192.0.2.1|64500|192.0.2.0/24|7|64496|IGP|192.0.2.2|0|0||NAG||", "bgp4mp_local"},
		{"AS path cut by bgpdump", "BGP4MP|1|A|192.0.2.1|64500|192.0.2.0/24|64500 64501...|IGP|192.0.2.1|0|0||NAG||", "as_path_truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := "BGP4MP|1427846430|W|196.223.14.55|30844|185.75.149.0/24\n"
			got, tr := textReadAll(t, first+tt.line+"\n")
			if tr.Err() != nil {
				t.Fatalf("Err() = %v", tr.Err())
			}
			if len(got) != 1 {
				t.Fatalf("got %d routes, want only the first line's", len(got))
			}
			st := tr.Stats()
			if st.Skipped[tt.reason] != 1 {
				t.Errorf("Skipped = %v, want %s: 1", st.Skipped, tt.reason)
			}
			if st.Records != 2 || st.Routes != 1 {
				t.Errorf("Records, Routes = %d, %d, want 2, 1", st.Records, st.Routes)
			}
		})
	}
}

func TestIsText(t *testing.T) {
	mrtHead := []byte{0x56, 0x29, 0xf8, 0xee, 0x00, 0x11, 0x00, 0x04, 0, 0, 0, 0x40} // BGP4MP_ET record header (pch)
	tests := []struct {
		name string
		head []byte
		want bool
	}{
		{"bgpdump line", []byte("TABLE_DUMP2|1400824800|B|157.130.10.233|701|1.0.0.0/24|"), true},
		{"plain lines with CRLF and tab", []byte("# routes\r\n192.0.2.0/24\t64500\r\n"), true},
		{"UTF-8 comment", []byte("# Zürich PoP\n192.0.2.0/24 64500\n"), true},
		{"UTF-8 rune cut by the head length", []byte("# Z\xc3"), true},
		{"MRT header: type high byte is 0 (RFC 6396 §4)", mrtHead, false},
		{"TABLE_DUMP_V2 header from 2014", []byte{0x53, 0x7e, 0xe1, 0x20, 0x00, 0x0d, 0x00, 0x01}, false},
		{"invalid UTF-8", []byte("abc\xff\xfe"), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		if got := IsText(tt.head); got != tt.want {
			t.Errorf("%s: IsText = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestTextErrors runs each testdata/text/*.txt input and compares what was
// read, skipped and reported with its .golden file (-update rewrites).
func TestTextErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/text/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/text/*.txt")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			in, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			tr := NewReader(bytes.NewReader(in), filepath.Base(file))
			var b strings.Builder
			for tr.Next() {
				r := tr.Route()
				fmt.Fprintf(&b, "route %d %s peer=%d/AS%d/%s pathid=%d path=%v origin=%+v\n",
					r.Kind, r.Prefix, r.Peer.Index, r.Peer.AS, r.Peer.IP, r.PathID, r.Path, r.Origin)
			}
			st := tr.Stats()
			fmt.Fprintf(&b, "err: %v\n", tr.Err())
			fmt.Fprintf(&b, "records=%d routes=%d bytes=%d comments=%d masked=%d\n", st.Records, st.Routes, st.Bytes, tr.comments, tr.Masked())
			fmt.Fprintf(&b, "skipped: %v\n", st.Skipped)
			for _, p := range st.Problems {
				fmt.Fprintf(&b, "problem: line %d offset %d: %s\n", p.Record, p.Offset, p.Err)
			}
			golden := strings.TrimSuffix(file, ".txt") + ".golden"
			if *textUpdate {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if b.String() != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
			}
		})
	}
}

// textLineCounts counts bgpdump -m lines by kind letter (A, W, B, STATE)
// and prefixes in A/B/W lines, independently of Reader.
type textLineCounts struct {
	A, W, B, StateDown, StateOther int
	Paths                          int // A/B lines with a non-empty AS path
}

// TestTextDifferential feeds bgpdump's own text output for every shared
// MRT file to Reader and checks that each line became the event it
// names, with the prefix and path field bgpdump printed.
func TestTextDifferential(t *testing.T) {
	dir := testutil.SharedData(t, "mrt")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	samples, _ := filepath.Glob(filepath.Join(dir, "samples", "*"))
	files = append(files, samples...)
	const maxLines = 20000
	for _, file := range files {
		if st, err := os.Stat(file); err != nil || st.IsDir() {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			out := testutil.Bgpdump(t, file, maxLines)
			lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			tr := NewReader(bytes.NewReader(out), filepath.Base(file))
			var want, got textLineCounts
			i := 0
			for tr.Next() {
				r := tr.Route()
				// Advance to the line this event came from: skipped lines
				// (state changes that are not PeerDown) have no event.
				for ; i < len(lines); i++ {
					f := strings.Split(lines[i], "|")
					if f[2] == "STATE" && !(f[5] == "6" && f[6] != "6") {
						want.StateOther++
						continue
					}
					break
				}
				if i >= len(lines) {
					t.Fatalf("more events than lines")
				}
				f := strings.Split(lines[i], "|")
				i++
				switch f[2] {
				case "A", "B", "W":
					if f[2] == "A" {
						want.A++
					} else if f[2] == "B" {
						want.B++
					} else {
						want.W++
					}
					if r.Prefix.String() != f[5] {
						t.Errorf("line %d: prefix %s, bgpdump printed %s", i, r.Prefix, f[5])
					}
					if f[2] != "W" {
						pathField := f[6]
						if strings.HasSuffix(f[0], "_AP") {
							pathField = f[7]
							if fmt.Sprint(r.PathID) != f[6] {
								t.Errorf("line %d: path id %d, bgpdump printed %s", i, r.PathID, f[6])
							}
						}
						if s := textFormatPath(r.Path); s != pathField {
							t.Errorf("line %d: path %q, bgpdump printed %q", i, s, pathField)
						}
						if pathField != "" {
							want.Paths++
						}
					}
				case "STATE":
					want.StateDown++
				}
				switch r.Kind {
				case route.Announce:
					if r.FromUpdate {
						got.A++
					} else {
						got.B++
					}
					if len(r.Path) > 0 {
						got.Paths++
					}
				case route.Withdraw:
					got.W++
				case route.PeerDown:
					got.StateDown++
				}
			}
			if err := tr.Err(); err != nil {
				t.Fatal(err)
			}
			st := tr.Stats()
			got.StateOther = int(st.Skipped["state_change"])
			if got != want {
				t.Errorf("counts: got %+v, want %+v", got, want)
			}
			if st.Skipped["malformed_line"] != 0 {
				t.Errorf("malformed lines in bgpdump output: %v", st.Problems)
			}
			if int(st.Records) != len(lines) {
				t.Errorf("Records = %d, want %d lines", st.Records, len(lines))
			}
		})
	}
}

// textFormatPath prints a path the way bgpdump does, for comparison.
func textFormatPath(p []rov.Segment) string {
	var b strings.Builder
	for i, s := range p {
		if i > 0 {
			b.WriteByte(' ')
		}
		open, sep, end := "", " ", ""
		switch s.Type {
		case rov.ASSet:
			open, sep, end = "{", ",", "}"
		case rov.ASConfedSet:
			open, sep, end = "[", ",", "]"
		case rov.ASConfedSequence:
			open, sep, end = "(", " ", ")"
		}
		b.WriteString(open)
		for j, a := range s.ASNs {
			if j > 0 {
				b.WriteString(sep)
			}
			fmt.Fprint(&b, a)
		}
		b.WriteString(end)
	}
	return b.String()
}

// FuzzTextReader checks TextReader's invariants on arbitrary text: no
// panic; every yielded prefix valid and masked; Origin consistent with
// Path; Stats.Routes equal to the events yielded; and every line yielded,
// counted as skipped, or blank/comment (unless the first data line stopped
// the reader with an error).
func FuzzTextReader(f *testing.F) {
	seeds := []string{
		"TABLE_DUMP2|1400824800|B|196.7.106.245|2905|0.0.0.0/0|2905 65023 16637|IGP|196.7.106.245|0|0||NAG||\n",
		"TABLE_DUMP|1027381055|B|193.203.0.1|1853|24.223.0.0/18|1853 1239 13659 {13659,701}|IGP|193.203.0.1|0|0||NAG||\n",
		"TABLE_DUMP2_AP|1452169448|B|2001:db8:16::2|65017|2001:db8:28::/48|59|65017 65018|IGP|255.255.255.255|100|0||NAG||\n",
		"BGP4MP_ET|1445565678.509481|STATE|206.220.231.55|3856|1|2\nBGP4MP_ET|1445565711.010749|W|206.220.231.55|3856|84.205.78.0/24\n",
		"BGP4MP|1470931201|STATE|37.49.232.25|60427|6|1\nBGP4MP|1470931200|A|37.49.236.123|198290|192.140.252.0/22|198290 6661 2914|IGP|37.49.236.123|0|0|0:200|NAG||\n",
		"BGP4MP_AP|1486801678|A|192.168.0.10|65000|172.17.0.0/24|2|4200000000 64512|IGP|192.168.0.10|100|10||NAG||\nBGP4MP_AP|1|W|192.168.0.10|65000|172.17.0.0/24|2\n",
		"BGP4MP|1|A|192.0.2.1|64512|192.0.2.0/24|(64512 64513) [64514,64515] 3356 {1,2} 64500|IGP|192.0.2.1|0|0||NAG||\nbad line\n",
		"# plain\n192.0.2.0/24 64500\n2001:db8::/32,AS64501\n\n192.0.2.1/24 x\n",
		// bgpdump -m of BGP4MP_MESSAGE_LOCAL records (TestTextLocal).
		"BGP4MP_LOCAL|2000|A|192.0.2.1|64500|198.51.100.0/24|65000 64501|IGP|192.0.2.254|0|0||NAG||\nBGP4MP_ET_LOCAL|2000.123456|W|192.0.2.1|64500|203.0.113.0/24\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		tr := NewReader(bytes.NewReader(in), "fuzz")
		var n int64
		for tr.Next() {
			n++
			r := tr.Route()
			if r.Kind != route.PeerDown {
				if !r.Prefix.IsValid() || r.Prefix.Masked() != r.Prefix {
					t.Fatalf("prefix %v not valid and masked", r.Prefix)
				}
			}
			if r.Kind == route.Announce && r.Origin != rov.OriginOf(r.Path) {
				t.Fatalf("origin %+v, path %v", r.Origin, r.Path)
			}
			if r.Peer.Index < 0 || r.Peer.Index >= len(tr.Peers()) || tr.Peers()[r.Peer.Index] != r.Peer {
				t.Fatalf("peer %+v not in Peers()", r.Peer)
			}
		}
		st := tr.Stats()
		if st.Routes != n {
			t.Fatalf("Stats.Routes = %d, yielded %d", st.Routes, n)
		}
		var skipped int64
		for _, v := range st.Skipped {
			skipped += v
		}
		if tr.Err() == nil {
			if got := st.Routes + skipped + tr.comments; got != st.Records {
				t.Fatalf("routes %d + skipped %d + comments %d = %d, want records %d", st.Routes, skipped, tr.comments, got, st.Records)
			}
			if st.Bytes != int64(len(in)) {
				t.Fatalf("Bytes = %d, want %d", st.Bytes, len(in))
			}
		}
		if len(st.Problems) > route.MaxProblems {
			t.Fatalf("%d problems > MaxProblems", len(st.Problems))
		}
	})
}

// BenchmarkTextReader reads bgpdump -m output of the PCH full table.
func BenchmarkTextReader(b *testing.B) {
	dir := testutil.SharedData(b, "mrt")
	out := testutil.Bgpdump(b, filepath.Join(dir, "updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz"), 1<<30)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		tr := NewReader(bytes.NewReader(out), "pch")
		for tr.Next() {
			n++
		}
		if tr.Err() != nil {
			b.Fatal(tr.Err())
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "routes/s")
}
