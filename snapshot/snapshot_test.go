package snapshot

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/routefile"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/study"
	"github.com/rovimpact/rovimpact/table"
)

var update = flag.Bool("update", false, "rewrite testdata/sample.rovsnap")

var sampleRoutes = []string{"../testdata/sample/routes-v4.mrt", "../testdata/sample/routes-v6.mrt"}

const sampleVRPs = "../testdata/sample/vrps.json"

// sampleAnalysis analyses the shipped sample (real RouteViews routes and
// rpki-client VRPs, every class and impact present) under opt, as the
// pipeline does, and the header analyze --save would record.
func sampleAnalysis(tb testing.TB, opt classify.Options) (*classify.Analysis, Header) {
	tb.Helper()
	f, err := os.Open(sampleVRPs)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	vrps, st, err := rov.LoadVRPs(f, sampleVRPs, rov.LoadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	vrps = rov.MergeVRPs(vrps)
	t := table.New()
	in := table.NewIngester(t, table.IngestOptions{})
	var inputs []reports.Input
	for _, name := range sampleRoutes {
		rf, err := os.Open(name)
		if err != nil {
			tb.Fatal(err)
		}
		src, err := routefile.NewSource(rf, name)
		if err != nil {
			tb.Fatal(err)
		}
		if err := in.Read(src); err != nil {
			tb.Fatal(err)
		}
		rf.Close()
		s := src.Stats()
		inputs = append(inputs, reports.Input{Name: name, Records: s.Records, Routes: s.Routes, Skipped: s.Skipped})
	}
	in.Finish()
	a := classify.Analyze(t, rov.NewIndex(vrps), opt)
	h := Header{
		Created: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
		Sources: []study.Source{{Role: study.RoleVRPs, Name: sampleVRPs, Size: 219583, ModTime: 1}, {Role: study.RoleRoutes, Name: "-", Size: -1}},
		Meta: reports.Meta{
			Policy:  reports.Policy{ASSet: opt.ASSet.String(), CountDefault: opt.Impact.CountDefault, LocalAS: opt.LocalAS},
			VRPs:    reports.VRPSummary{Loaded: len(vrps), Read: st.Read, ByTA: st.ByTA, Files: []string{sampleVRPs}},
			Inputs:  inputs,
			Skipped: in.Skipped,
		},
	}
	return a, h
}

// tinyAnalysis is a hand-made table small enough to fuzz from: both
// families, every state, an AS_SET route, an AS0 VRP, an unvalidated local
// origin, a route carried by two peers.
func tinyAnalysis(tb testing.TB) (Header, *classify.Analysis) {
	tb.Helper()
	pfx := netip.MustParsePrefix
	vrps := rov.MergeVRPs([]rov.VRP{
		{Prefix: pfx("192.0.2.0/24"), MaxLen: 24, ASN: 64500, TA: "ripe"},
		{Prefix: pfx("198.51.100.0/22"), MaxLen: 23, ASN: 64501, TA: "arin"},
		{Prefix: pfx("203.0.113.0/24"), MaxLen: 24, ASN: 0, TA: "apnic"},
		{Prefix: pfx("2001:db8::/32"), MaxLen: 48, ASN: 64502, TA: "ripe"},
	})
	t := table.New()
	p1 := t.Peer(route.PeerKey{AS: 64510, IP: netip.MustParseAddr("10.0.0.1")})
	p2 := t.Peer(route.PeerKey{AS: 64511, IP: netip.MustParseAddr("2001:db8::1")})
	as := func(n uint32) rov.Origin { return rov.Origin{Kind: rov.OriginAS, ASN: n} }
	t.Add(pfx("192.0.2.0/24"), as(64500), p1, nil)
	t.Add(pfx("192.0.2.0/24"), as(64500), p2, nil)
	t.Add(pfx("192.0.2.128/25"), as(64500), p1, nil)
	t.Add(pfx("198.51.100.0/24"), as(64509), p2, nil)
	t.Add(pfx("198.51.100.0/22"), rov.Origin{Kind: rov.OriginNone}, p1, []uint32{64501, 64503})
	t.Add(pfx("203.0.113.0/24"), as(64501), p1, nil)
	t.Add(pfx("2001:db8:1::/48"), as(64502), p2, nil)
	t.Add(pfx("2001:db8::/32"), rov.Origin{Kind: rov.OriginLocal}, p2, nil)
	t.Add(pfx("100.64.0.0/10"), as(64505), p1, nil)
	a := classify.Analyze(t, rov.NewIndex(vrps), classify.Options{})
	return Header{Meta: reports.Meta{Policy: reports.Policy{ASSet: "invalid"}}}, a
}

// reportOf is everything a report shows of an analysis, as bytes: equal
// bytes mean equal verdicts, deciding VRPs, impacts and covers.
func reportOf(t *testing.T, a *classify.Analysis, meta reports.Meta) []byte {
	t.Helper()
	meta.PerPeer = true
	var b bytes.Buffer
	if err := reports.WriteJSON(&b, reports.Build(a, meta)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRoundTrip: decode(encode(a)) reports exactly what a reports, answers
// every lookup the same, and encodes to the same bytes again — under every
// option that changes verdicts.
func TestRoundTrip(t *testing.T) {
	for _, opt := range []classify.Options{
		{},
		{ASSet: classify.ASSetNotFound},
		{ASSet: classify.ASSetWithdraw, Impact: classify.ImpactOptions{CountDefault: true}},
		{LocalAS: 64512},
	} {
		t.Run(fmt.Sprintf("%v-local%d-default%v", opt.ASSet, opt.LocalAS, opt.Impact.CountDefault), func(t *testing.T) {
			a, h := sampleAnalysis(t, opt)
			enc, err := Encode(h, a)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Decode(enc, "sample")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(reportOf(t, s.Analysis, s.Meta), reportOf(t, a, h.Meta)) {
				t.Error("the report from the snapshot differs from the original's")
			}
			if s.Analysis.Options != a.Options {
				t.Errorf("options %+v, want %+v", s.Analysis.Options, a.Options)
			}
			for id := range a.Outcomes {
				if !slices.Equal(s.Analysis.VRPs(id), a.VRPs(id)) {
					t.Fatalf("route %d: deciding VRPs %v, want %v", id, s.Analysis.VRPs(id), a.VRPs(id))
				}
			}
			origin := uint32(13335)
			for _, q := range []string{"1.1.1.0/24", "2001:4528::/32", "5.172.202.10", "AS18101", "0.0.0.0/0"} {
				pq, err := reports.ParseQuery(q)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := json.Marshal(reports.Lookup(s.Analysis, pq, &origin))
				want, _ := json.Marshal(reports.Lookup(a, pq, &origin))
				if !bytes.Equal(got, want) {
					t.Errorf("lookup %s differs:\n got %s\nwant %s", q, got, want)
				}
			}
			again, err := Encode(s.Header, s.Analysis)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, enc) {
				t.Error("encode(decode(x)) != x")
			}
		})
	}
}

// TestGoldenFile pins the format: the sample encodes to the bytes of
// testdata/sample.rovsnap. A change here is a format change: bump Version.
func TestGoldenFile(t *testing.T) {
	a, h := sampleAnalysis(t, classify.Options{})
	enc, err := Encode(h, a)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "sample.rovsnap")
	if *update {
		if err := os.WriteFile(path, enc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(enc, want) {
		t.Errorf("encoding of the sample differs from %s (%d bytes, want %d): a format change must bump Version; go test -update rewrites it", path, len(enc), len(want))
	}
	if _, err := Decode(want, path); err != nil {
		t.Errorf("decoding %s: %v", path, err)
	}
}

func TestEncodeRefusesDisagreeingPolicy(t *testing.T) {
	a, h := sampleAnalysis(t, classify.Options{})
	h.Meta.Policy.ASSet = "withdraw"
	if _, err := Encode(h, a); err == nil || !strings.Contains(err.Error(), "disagrees") {
		t.Errorf("got %v, want an error: the header would restore other options", err)
	}
}

// sections maps each section tag to the offset of its body in data.
func sections(t *testing.T, data []byte) map[string]int {
	t.Helper()
	out := map[string]int{}
	off := prologue + int(binary.LittleEndian.Uint32(data[len(Magic)+4:]))
	for off+12 <= len(data)-4 {
		tag := string(data[off : off+4])
		n := int(binary.LittleEndian.Uint64(data[off+4:]))
		out[tag] = off + 12
		off += 12 + n
	}
	return out
}

// reseal recomputes the checksum after a deliberate edit, so the edit
// reaches the structural checks.
func reseal(data []byte) []byte {
	body := data[:len(data)-4]
	binary.LittleEndian.PutUint32(data[len(body):], crc32.Checksum(body, crcTable))
	return data
}

// TestDecodeCorrupt: every kind of damage is an error naming the file, the
// offset and what is wrong; none panics or yields a snapshot.
func TestDecodeCorrupt(t *testing.T) {
	a, h := sampleAnalysis(t, classify.Options{})
	good, err := Encode(h, a)
	if err != nil {
		t.Fatal(err)
	}
	sec := sections(t, good)
	put32 := func(off int, v uint32) func([]byte) []byte {
		return func(d []byte) []byte { binary.LittleEndian.PutUint32(d[off:], v); return reseal(d) }
	}
	// The first records of each kind (layout in the package comment).
	route0, vrp0 := sec["RUT4"]+4, sec["VRP4"]+4
	swap := func(at, size int) func([]byte) []byte {
		return func(d []byte) []byte {
			x := slices.Clone(d[at : at+size])
			copy(d[at:], d[at+size:at+2*size])
			copy(d[at+size:], x)
			return reseal(d)
		}
	}
	cases := []struct {
		name   string
		edit   func([]byte) []byte
		offset int // -1: any
		want   string
	}{
		{"empty file", func([]byte) []byte { return nil }, 0, "magic"},
		{"not a snapshot (an MRT file)", func([]byte) []byte { b, _ := os.ReadFile(sampleRoutes[0]); return b }, 0, "magic"},
		{"newer format version", func(d []byte) []byte { binary.LittleEndian.PutUint32(d[8:], 3); return d }, 8, "format version 3"},
		{"version 1 (before sorted records)", func(d []byte) []byte { binary.LittleEndian.PutUint32(d[8:], 1); return d }, 8, "format version 1, this rovimpact reads version 2 (write the snapshot again"},
		{"truncated in the prologue", func(d []byte) []byte { return d[:12] }, 12, "truncated"},
		{"truncated in the middle", func(d []byte) []byte { return d[:len(d)/2] }, -1, "checksum"},
		{"last byte missing", func(d []byte) []byte { return d[:len(d)-1] }, -1, "checksum"},
		{"one bit flipped", func(d []byte) []byte { d[route0+20] ^= 0x10; return d }, len(good) - 4, "checksum"},
		{"header length past the end", put32(12, 1<<30), 16, "truncated"},
		{"header not JSON", func(d []byte) []byte { d[prologue] = '['; return reseal(d) }, prologue, "JSON header"},
		{"section out of order", func(d []byte) []byte { copy(d[sec["PEER"]-12:], "RUT4"); return reseal(d) }, sec["PEER"] - 12, `"RUT4" where "PEER" belongs`},
		{"section length past the end", func(d []byte) []byte {
			binary.LittleEndian.PutUint64(d[sec["BITS"]-8:], 1<<40)
			return reseal(d)
		}, sec["BITS"] - 8, "length 1099511627776"},
		{"route count beyond the section", put32(sec["RUT4"], 1<<28), sec["RUT4"], "count 268435456"},
		{"route count short of the section", func(d []byte) []byte {
			binary.LittleEndian.PutUint32(d[sec["RUT4"]:], binary.LittleEndian.Uint32(d[sec["RUT4"]:])-1)
			return reseal(d)
		}, sec["RUT4"], "records of 32 bytes in"},
		{"route prefix length 33", func(d []byte) []byte { d[route0+4] = 33; return reseal(d) }, route0, "prefix length 33"},
		{"route prefix with host bits", func(d []byte) []byte { d[route0+3] |= 1; return reseal(d) }, route0, "host bits"},
		{"route origin kind 9", func(d []byte) []byte { d[route0+5] = 9; return reseal(d) }, route0, "unknown origin kind 9"},
		{"route padding", func(d []byte) []byte { d[route0+10] = 1; return reseal(d) }, route0, "padding"},
		{"routes out of order", swap(route0, rut4Size), route0 + rut4Size, "does not sort after"},
		{"route id repeated", func(d []byte) []byte {
			copy(d[route0+rut4Size+20:], d[route0+20:route0+24])
			return reseal(d)
		}, route0 + rut4Size, "repeats"},
		{"route index pointing at another route", func(d []byte) []byte {
			binary.LittleEndian.PutUint32(d[sec["RIDX"]+4:], binary.LittleEndian.Uint32(d[sec["RIDX"]+8:]))
			return reseal(d)
		}, sec["RIDX"] + 4, "RIDX: route 0 points at the record of route 1"},
		{"route index past the routes", put32(sec["RIDX"]+4, 1<<30), sec["RIDX"] + 4, "beyond the"},
		{"VRP trust anchor out of range", func(d []byte) []byte {
			binary.LittleEndian.PutUint16(d[vrp0+6:], 999)
			return reseal(d)
		}, vrp0, "trust anchor 999"},
		{"VRP maxLength below its length", func(d []byte) []byte { d[vrp0+5] = 1; return reseal(d) }, vrp0, "maxLength 1"},
		{"VRP prefix with host bits", func(d []byte) []byte { d[vrp0+3] |= 1; return reseal(d) }, vrp0, "host bits"},
		{"VRPs out of order", swap(vrp0, vrp4Size), vrp0 + vrp4Size, "does not sort after"},
		{"VRP id repeated", func(d []byte) []byte {
			copy(d[vrp0+vrp4Size+12:], d[vrp0+12:vrp0+16])
			return reseal(d)
		}, vrp0 + vrp4Size, "repeats"},
		{"VRP id out of range", put32(vrp0+12, 1<<30), vrp0, "out of range"},
		{"VRP index pointing at another VRP", func(d []byte) []byte {
			binary.LittleEndian.PutUint32(d[sec["VIDX"]+4:], binary.LittleEndian.Uint32(d[sec["VIDX"]+8:]))
			return reseal(d)
		}, sec["VIDX"] + 4, "VIDX: VRP 0 points at the record of VRP 1"},
		{"peer bit of a missing peer", func(d []byte) []byte { d[sec["BITS"]+8+7] = 0x80; return reseal(d) }, -1, "beyond the"},
		{"verdict state 7", func(d []byte) []byte { d[route0+6] = 7; return reseal(d) }, route0, "unknown state 7"},
		{"dropped flag contradicts the state", func(d []byte) []byte { d[route0+8] ^= flagDropped; return reseal(d) }, route0, "contradicts state"},
		{"deciding VRPs past REFS", put32(route0+24, 1<<30), route0, "beyond the"},
		{"deciding VRP out of range", put32(sec["REFS"]+4, 1<<30), sec["REFS"] + 4, "out of range"},
		{"bytes after the last section", func(d []byte) []byte {
			d = append(d[:len(d)-4:len(d)-4], 0, 0, 0, 0, 0)
			return reseal(d)
		}, len(good) - 4, "after the last section"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.edit(slices.Clone(good))
			s, err := Decode(data, "x.rovsnap")
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("got snapshot %v, error %v; want a *FormatError", s != nil, err)
			}
			if !strings.Contains(err.Error(), "snapshot x.rovsnap: offset ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q: want the file, an offset and %q", err, tc.want)
			}
			if tc.offset >= 0 && fe.Offset != int64(tc.offset) {
				t.Errorf("offset %d, want %d (%v)", fe.Offset, tc.offset, err)
			}
			// A lookup reaching every record refuses the file as well.
			every := []reports.Query{{Text: "0.0.0.0/0", Prefix: netip.MustParsePrefix("0.0.0.0/0")}, {Text: "::/0", Prefix: netip.MustParsePrefix("::/0")}}
			if _, perr := DecodeFor(data, "x.rovsnap", every); !errors.As(perr, &fe) {
				t.Errorf("selection: got error %v, want a *FormatError", perr)
			}
		})
	}
}

// TestDecodeTruncatedEverywhere: cutting the file at any point is an
// error, and a cut inside a section (checksum bypassed) wraps
// io.ErrUnexpectedEOF or names what the shortened data breaks.
func TestDecodeTruncatedEverywhere(t *testing.T) {
	a, h := sampleAnalysis(t, classify.Options{})
	good, err := Encode(h, a)
	if err != nil {
		t.Fatal(err)
	}
	step := max(1, len(good)/500)
	for n := 0; n < len(good); n += step {
		if _, err := Decode(good[:n], "cut"); err == nil {
			t.Fatalf("cut at %d: no error", n)
		}
		if _, err := decode(good[:n], "cut"); err == nil {
			t.Fatalf("cut at %d, checksum bypassed: no error", n)
		}
	}
}

func TestIsFile(t *testing.T) {
	if !IsFile(filepath.Join("testdata", "sample.rovsnap")) {
		t.Error("the sample snapshot is not recognised")
	}
	for _, name := range []string{sampleVRPs, sampleRoutes[0], "/nonexistent"} {
		if IsFile(name) {
			t.Errorf("%s taken for a snapshot", name)
		}
	}
}

// FuzzDecode: any input either fails with a *FormatError or decodes to a
// snapshot whose references are all in range and which encodes to bytes
// that decode and encode again to themselves. decode skips the checksum so
// that mutations reach the structural checks.
func FuzzDecode(f *testing.F) {
	// The fuzzer grows from the tiny hand-made snapshot, whose mutations
	// minimise in seconds. The real sample (a 68 KB snapshot) is checked
	// by TestCheckDecodeSample instead: a new input grown from it took the
	// fuzzer's minimiser minutes, longer than a make fuzz run.
	tiny, err := Encode(tinyAnalysis(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tiny[:len(tiny)-4])                                   // a snapshot without its checksum: what decode expects
	f.Add(tiny)                                                 // with it: bytes after the last section
	f.Add(tiny[:len(tiny)/2])                                   // cut inside a section
	f.Add([]byte(Magic + "\x02\x00\x00\x00\x02\x00\x00\x00{}")) // header only
	f.Fuzz(checkDecode)
}

// TestCheckDecodeSample holds FuzzDecode's property on the real sample
// and on mutations of it: bytes overwritten at random, with the checksum
// skipped (decode) so that they reach the record checks.
func TestCheckDecodeSample(t *testing.T) {
	real, err := os.ReadFile(filepath.Join("testdata", "sample.rovsnap"))
	if err != nil {
		t.Fatal(err)
	}
	body := real[:len(real)-4]
	checkDecode(t, body)
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		d := slices.Clone(body)
		for range 1 + rng.IntN(4) {
			d[rng.IntN(len(d))] = byte(rng.Uint32())
		}
		checkDecode(t, d)
	}
}

// checkDecode is FuzzDecode's property: a *FormatError with an offset
// inside the input, or a structurally valid snapshot.
func checkDecode(t *testing.T, data []byte) {
	// The selection of a few queries decodes if the whole does and answers
	// them alike; either way it must not panic, and fail only so. It may
	// decode where the whole does not: the id indexes, peer bitsets and
	// AS_SETs are checked where read, and it reads only its routes' and
	// VRPs' (what its answers cannot depend on may be damaged unseen).
	qs := []reports.Query{{Text: "0.0.0.0/0", Prefix: netip.MustParsePrefix("0.0.0.0/0")}, {Text: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1")}, {Text: "AS64500", ASN: 64500}}
	part, perr := decodeFor(data, "fuzz", qs)
	if perr != nil {
		var fe *FormatError
		if !errors.As(perr, &fe) {
			t.Fatalf("error %v is not a *FormatError", perr)
		}
	}
	{
		s, err := decode(data, "fuzz")
		if err == nil && perr != nil {
			t.Fatalf("the whole decodes, a selection fails: %v", perr)
		}
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			if fe.Offset < 0 || fe.Offset > int64(len(data)) {
				t.Fatalf("offset %d outside the %d-byte input", fe.Offset, len(data))
			}
			return
		}
		a := s.Analysis
		if len(a.Outcomes) != a.Table.Len() {
			t.Fatalf("%d verdicts for %d routes", len(a.Outcomes), a.Table.Len())
		}
		for id := range a.Outcomes {
			for _, v := range a.VRPs(id) {
				if int(v) >= a.Index.Len() {
					t.Fatalf("route %d: VRP %d of %d", id, v, a.Index.Len())
				}
			}
			n := a.Table.PeerCount(id)
			if n == 0 || n > len(a.Table.Peers()) {
				t.Fatalf("route %d: %d peers of %d", id, n, len(a.Table.Peers()))
			}
			a.Assess(id, nil)
		}
		for _, p := range []string{"0.0.0.0/0", "::/0", "192.0.2.0/24"} {
			reports.Lookup(a, reports.Query{Prefix: netip.MustParsePrefix(p)}, nil)
		}
		for _, q := range qs {
			got, _ := json.Marshal(reports.Lookup(part.Analysis, q, nil))
			want, _ := json.Marshal(reports.Lookup(a, q, nil))
			if !bytes.Equal(got, want) {
				t.Fatalf("lookup %s from the selection:\n%s\nfrom the whole:\n%s", q.Text, got, want)
			}
		}
		enc, err := Encode(s.Header, a)
		if err != nil {
			t.Fatalf("re-encoding a decoded snapshot: %v", err)
		}
		s2, err := Decode(enc, "re-encoded")
		if err != nil {
			t.Fatalf("decoding the re-encoding: %v", err)
		}
		enc2, err := Encode(s2.Header, s2.Analysis)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encode/decode is not a fixpoint (%v)", err)
		}
	}
}

// TestMasked holds the shift-based host-bit check to netip's Masked at
// every length of both families, on addresses with one bit set.
func TestMasked(t *testing.T) {
	for _, width := range []int{32, 128} {
		for set := range width {
			var a netip.Addr
			if width == 32 {
				var b [4]byte
				b[set/8] = 0x80 >> (set % 8)
				a = netip.AddrFrom4(b)
			} else {
				var b [16]byte
				b[set/8] = 0x80 >> (set % 8)
				a = netip.AddrFrom16(b)
			}
			for bits := 0; bits <= width; bits++ {
				p := netip.PrefixFrom(a, bits)
				if got, want := masked(a, uint8(bits)), p == p.Masked(); got != want {
					t.Fatalf("masked(%s, %d) = %v, want %v", a, bits, got, want)
				}
			}
		}
	}
}
