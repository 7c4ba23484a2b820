package mrt

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/bgpdumptext"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// Cross tests of this package's binary records against bgpdump -m and the
// text reader (package bgpdumptext).

func bgpdumpReadAll(t *testing.T, in string) ([]route.Route, *bgpdumptext.Reader) {
	t.Helper()
	tr := bgpdumptext.NewReader(strings.NewReader(in), "test")
	var got []route.Route
	for tr.Next() {
		got = append(got, *tr.Route())
	}
	return got, tr
}

func seq(a ...uint32) rov.Segment  { return rov.Segment{Type: rov.ASSequence, ASNs: a} }
func set(a ...uint32) rov.Segment  { return rov.Segment{Type: rov.ASSet, ASNs: a} }
func cseq(a ...uint32) rov.Segment { return rov.Segment{Type: rov.ASConfedSequence, ASNs: a} }
func cset(a ...uint32) rov.Segment { return rov.Segment{Type: rov.ASConfedSet, ASNs: a} }

// textBGP4MPRecord encodes a BGP4MP (or BGP4MP_ET) record of subtype sub
// holding one UPDATE that withdraws 203.0.113.0/24 and announces
// 198.51.100.0/24 with AS path 65000 64501. The Peer fields name
// 192.0.2.1 AS64500 and the Local fields 192.0.2.99 AS65000, distinct so a
// test sees which of the two a reader reports.
func textBGP4MPRecord(typ, sub int) []byte {
	as4 := sub == bmMessageAS4 || sub == bmMessageAS4Local || sub == bmMessageAS4AP || sub == bmMessageAS4LocalAP
	ap := sub == bmMessageAP || sub == bmMessageAS4AP || sub == bmMessageLocalAP || sub == bmMessageAS4LocalAP
	h := cat(be16(64500), be16(65000))
	asSize := 2
	if as4 {
		h, asSize = cat(be32(64500), be32(65000)), 4
	}
	h = cat(h, be16(0), be16(afiIPv4), netip.MustParseAddr("192.0.2.1").AsSlice(), netip.MustParseAddr("192.0.2.99").AsSlice())
	if typ == typeBGP4MPET {
		h = cat(be32(123456), h) // microseconds (RFC 6396 §3)
	}
	w, nlri := pfx("203.0.113.0/24"), pfx("198.51.100.0/24")
	if ap {
		w, nlri = cat(be32(5), w), cat(be32(5), nlri)
	}
	attrs := cat(attr(1 /* ORIGIN */, []byte{0}), attr(attrASPath, seg(rov.ASSequence, asSize, 65000, 64501)), nh4("192.0.2.254"))
	return record(2000, typ, sub, cat(h, update(w, attrs, nlri)))
}

// TestTextLocal pins what the text reader does with messages the monitored
// router sent rather than received, as bgpdump -m prints them from real
// binary records: they are skipped and counted as bgp4mp_local, and their
// recipient does not become a peer. RFC 6396 §4.4.5: for a
// BGP4MP_MESSAGE_LOCAL record "the Peer IP and AS fields refer to the
// recipient of the generated BGP messages"; an impact study wants what the
// router receives. The received subtypes are the control rows.
func TestTextLocal(t *testing.T) {
	tests := []struct {
		name      string
		typ, sub  int
		wantLine  string // bgpdump's first line, up to the prefix
		routes    int
		local     int64
		wantPeers string
	}{
		{"RFC 6396 §4.4.2 BGP4MP_MESSAGE (received): read", typeBGP4MP, bmMessage,
			"BGP4MP|2000|W|192.0.2.1|64500|203.0.113.0/24", 2, 0, "[AS64500 192.0.2.1]"},
		{"RFC 6396 §4.4.3 BGP4MP_MESSAGE_AS4 (received), BGP4MP_ET: read", typeBGP4MPET, bmMessageAS4,
			"BGP4MP_ET|2000.123456|W|192.0.2.1|64500|203.0.113.0/24", 2, 0, "[AS64500 192.0.2.1]"},
		{"RFC 6396 §4.4.5 BGP4MP_MESSAGE_LOCAL (sent to 192.0.2.1): skipped", typeBGP4MP, bmMessageLocal,
			"BGP4MP_LOCAL|2000|W|192.0.2.1|64500|203.0.113.0/24", 0, 2, "[]"},
		{"RFC 6396 §4.4.6 BGP4MP_MESSAGE_AS4_LOCAL: skipped", typeBGP4MP, bmMessageAS4Local,
			"BGP4MP_LOCAL|2000|W|192.0.2.1|64500|203.0.113.0/24", 0, 2, "[]"},
		{"RFC 6396 §4.4.5 MESSAGE_LOCAL in BGP4MP_ET (§4.4): skipped", typeBGP4MPET, bmMessageLocal,
			"BGP4MP_ET_LOCAL|2000.123456|W|192.0.2.1|64500|203.0.113.0/24", 0, 2, "[]"},
		{"RFC 6396 §4.4.6 MESSAGE_AS4_LOCAL in BGP4MP_ET: skipped", typeBGP4MPET, bmMessageAS4Local,
			"BGP4MP_ET_LOCAL|2000.123456|W|192.0.2.1|64500|203.0.113.0/24", 0, 2, "[]"},
		// bgpdump 1.6.2 drops the LOCAL mark of the ADD-PATH subtypes and
		// names the router itself as the peer: text cannot tell these from
		// received routes (known departure, see bgpdumptext.Reader).
		{"RFC 8050 §3 BGP4MP_MESSAGE_LOCAL_ADDPATH: bgpdump prints BGP4MP_AP from the router", typeBGP4MP, bmMessageLocalAP,
			"BGP4MP_AP|2000|W|192.0.2.99|65000|203.0.113.0/24", 2, 0, "[AS65000 192.0.2.99]"},
		{"RFC 8050 §3 BGP4MP_MESSAGE_AS4_LOCAL_ADDPATH: likewise", typeBGP4MPET, bmMessageAS4LocalAP,
			"BGP4MP_ET_AP|2000.123456|W|192.0.2.99|65000|203.0.113.0/24", 2, 0, "[AS65000 192.0.2.99]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "local.mrt")
			if err := os.WriteFile(file, textBGP4MPRecord(tt.typ, tt.sub), 0o644); err != nil {
				t.Fatal(err)
			}
			out := testutil.Bgpdump(t, file, 100)
			lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], tt.wantLine+"|") && lines[0] != tt.wantLine {
				t.Fatalf("bgpdump -m printed %q, want 2 lines, the first starting %q", out, tt.wantLine)
			}
			got, tr := bgpdumpReadAll(t, string(out))
			if tr.Err() != nil {
				t.Fatalf("Err() = %v", tr.Err())
			}
			st := tr.Stats()
			if len(got) != tt.routes || st.Skipped["bgp4mp_local"] != tt.local {
				t.Errorf("got %d routes, bgp4mp_local %d; want %d, %d (Skipped %v)", len(got), st.Skipped["bgp4mp_local"], tt.routes, tt.local, st.Skipped)
			}
			var peers []string
			for _, p := range tr.Peers() {
				peers = append(peers, fmt.Sprintf("AS%d %s", p.AS, p.IP))
			}
			if s := fmt.Sprint(peers); s != tt.wantPeers {
				t.Errorf("Peers() = %s, want %s", s, tt.wantPeers)
			}
			if int64(len(got))+st.Skipped["bgp4mp_local"] != st.Records {
				t.Errorf("%d routes + %d skipped != %d lines", len(got), st.Skipped["bgp4mp_local"], st.Records)
			}
			// The binary reader sees the subtype itself, so it skips every
			// LOCAL record, the ADD-PATH ones included, and tables only the
			// received ones (one record: one skip).
			local := tt.sub == bmMessageLocal || tt.sub == bmMessageAS4Local || tt.sub == bmMessageLocalAP || tt.sub == bmMessageAS4LocalAP
			bin, br := readAll(t, textBGP4MPRecord(tt.typ, tt.sub), "local.mrt")
			wantBin, wantSkip := 2, int64(0)
			if local {
				wantBin, wantSkip = 0, 1
			}
			if len(bin) != wantBin || br.Stats().Skipped["bgp4mp_local"] != wantSkip || local && len(br.Peers()) != 0 {
				t.Errorf("binary reader: %d routes, bgp4mp_local %d, peers %v; want %d, %d", len(bin), br.Stats().Skipped["bgp4mp_local"], br.Peers(), wantBin, wantSkip)
			}
		})
	}
}
