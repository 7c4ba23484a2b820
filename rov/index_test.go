package rov

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

// The oracle: slice scans straight from the RFC 6811 §2 definitions, with
// no cleverness, to hold the index to.

func oracleCovers(v, p netip.Prefix) bool {
	v = v.Masked()
	return v.IsValid() && p.IsValid() && v.Addr().Is4() == p.Addr().Is4() &&
		v.Bits() <= p.Bits() && v.Contains(p.Masked().Addr())
}

func oracleCovering(vrps []VRP, p netip.Prefix) []uint32 {
	var out []uint32
	for i, v := range vrps {
		if oracleCovers(v.Prefix, p) {
			out = append(out, uint32(i))
		}
	}
	return out
}

func oracleInside(vrps []VRP, p netip.Prefix, asn uint32, anyASN bool) []uint32 {
	var out []uint32
	for i, v := range vrps {
		if (anyASN || v.ASN == asn) && v.Prefix.Bits() > p.Bits() && oracleCovers(p, v.Prefix) {
			out = append(out, uint32(i))
		}
	}
	return out
}

func oracleValidate(vrps []VRP, p netip.Prefix, o Origin) Result {
	cov := oracleCovering(vrps, p)
	if len(cov) == 0 {
		return Result{State: NotFound}
	}
	var match []uint32
	for _, i := range cov {
		v := vrps[i]
		if o.Kind == OriginAS && v.ASN != 0 && v.ASN == o.ASN && p.Bits() <= int(v.MaxLen) {
			match = append(match, i)
		}
	}
	if len(match) > 0 {
		return Result{State: Valid, VRPs: match}
	}
	return Result{State: Invalid, VRPs: cov}
}

func sortedCopy(s []uint32) []uint32 {
	return slices.Sorted(slices.Values(s))
}

// randPrefix draws prefixes from a few narrow regions so that they nest and
// overlap often (uniform random prefixes almost never cover each other).
func randPrefix(r *rand.Rand, v6 bool) netip.Prefix {
	if !v6 {
		a := uint32(10)<<24 | r.Uint32()&0x00FF0F0F
		bits := 12 + r.IntN(21)
		if r.IntN(100) == 0 {
			// Rare short prefixes, anywhere (a /0-/8 here would cover
			// the whole cluster; /0 comes from the withDefault cases).
			a, bits = r.Uint32(), 1+r.IntN(11)
		}
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], a)
		return netip.PrefixFrom(netip.AddrFrom4(b), bits).Masked()
	}
	hi := uint64(0x20010db8)<<32 | uint64(r.Uint32()&0x00FF00F0)
	lo := r.Uint64() & 0xF
	bits := 28 + r.IntN(37)
	switch r.IntN(100) {
	case 0:
		hi, bits = r.Uint64(), 1+r.IntN(27) // rare short prefixes, anywhere
	case 1, 2, 3, 4, 5, 6, 7, 8, 9, 10:
		bits = 65 + r.IntN(64) // long ones, up to /128
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return netip.PrefixFrom(netip.AddrFrom16(b), bits).Masked()
}

func randVRPs(r *rand.Rand, n int) []VRP {
	vrps := make([]VRP, n)
	for i := range vrps {
		p := randPrefix(r, r.IntN(2) == 1)
		width := p.Addr().BitLen()
		ml := p.Bits()
		if r.IntN(10) >= 4 {
			ml += r.IntN(width - p.Bits() + 1)
		}
		vrps[i] = VRP{Prefix: p, MaxLen: uint8(ml), ASN: uint32(r.IntN(6))}
	}
	return vrps
}

func randOrigin(r *rand.Rand) Origin {
	switch n := r.IntN(20); {
	case n < 2:
		return Origin{Kind: OriginNone}
	case n < 3:
		return Origin{Kind: OriginLocal}
	default:
		return Origin{Kind: OriginAS, ASN: uint32(r.IntN(7))}
	}
}

// checkAgainstOracle compares every query of ix with the oracle for route p
// and origin o.
func checkAgainstOracle(t *testing.T, ix *Index, vrps []VRP, p netip.Prefix, o Origin) {
	t.Helper()
	want := oracleCovering(vrps, p)
	if got := sortedCopy(ix.Covering(p, nil)); !slices.Equal(got, want) {
		t.Fatalf("Covering(%s) = %v, want %v", p, got, want)
	}
	if got := sortedCopy(ix.CoveringTree(p, nil)); !slices.Equal(got, want) {
		t.Fatalf("CoveringTree(%s) = %v, want %v", p, got, want)
	}
	if got, want := sortedCopy(ix.Inside(p, nil)), oracleInside(vrps, p, 0, true); !slices.Equal(got, want) {
		t.Fatalf("Inside(%s) = %v, want %v", p, got, want)
	}
	if o.Kind == OriginAS {
		if got, want := sortedCopy(ix.InsideByASN(p, o.ASN, nil)), oracleInside(vrps, p, o.ASN, false); !slices.Equal(got, want) {
			t.Fatalf("InsideByASN(%s, AS%d) = %v, want %v", p, o.ASN, got, want)
		}
	}
	wr := oracleValidate(vrps, p, o)
	gr := ix.Validate(p, o, make([]uint32, 0, 1)) // small buffer: must grow correctly
	if gr.State != wr.State || !slices.Equal(sortedCopy(gr.VRPs), wr.VRPs) {
		t.Fatalf("Validate(%s, %+v) = %v %v, want %v %v", p, o, gr.State, sortedCopy(gr.VRPs), wr.State, wr.VRPs)
	}
}

func TestIndexOracleRandom(t *testing.T) {
	for _, tc := range []struct {
		seed          uint64
		nVRPs, nRoute int
		withDefault   bool // add 0.0.0.0/0 and ::/0 VRPs
	}{
		{1, 5, 500, false}, {2, 30, 1000, false}, {3, 300, 2000, false},
		{4, 2000, 2000, false}, {5, 2000, 1000, false}, {6, 300, 1000, true},
	} {
		t.Run(fmt.Sprintf("seed%d_vrps%d", tc.seed, tc.nVRPs), func(t *testing.T) {
			r := rand.New(rand.NewPCG(tc.seed, 0x5eed))
			vrps := randVRPs(r, tc.nVRPs)
			if tc.withDefault {
				vrps = append(vrps, tvrp("0.0.0.0/0", 16, 3), tvrp("::/0", 0, 0))
			}
			ix := NewIndex(vrps)
			if ix.Len() != len(vrps) {
				t.Fatalf("Len = %d, want %d", ix.Len(), len(vrps))
			}
			hits := map[State]int{}
			for range tc.nRoute {
				var p netip.Prefix
				if r.IntN(3) == 0 {
					// A VRP's own prefix, or one near it: exact hits.
					v := vrps[r.IntN(len(vrps))]
					p = v.Prefix
					if b := p.Bits() + r.IntN(3) - 1; b >= 0 && b <= p.Addr().BitLen() {
						p = netip.PrefixFrom(p.Addr(), b).Masked()
					}
				} else {
					p = randPrefix(r, r.IntN(2) == 1)
				}
				o := randOrigin(r)
				checkAgainstOracle(t, ix, vrps, p, o)
				hits[ix.Validate(p, o, nil).State]++
			}
			for asn := range uint32(8) {
				var want []uint32
				for i, v := range vrps {
					if v.ASN == asn {
						want = append(want, uint32(i))
					}
				}
				if got := sortedCopy(ix.ByASN(asn)); !slices.Equal(got, want) {
					t.Fatalf("ByASN(%d) = %v, want %v", asn, got, want)
				}
			}
			// The generator must exercise every state, or the comparison
			// proves little.
			if tc.nVRPs >= 300 && (hits[Valid] == 0 || hits[Invalid] == 0 || hits[NotFound] == 0 && !tc.withDefault) {
				t.Errorf("states hit %v: generator no longer produces all three", hits)
			}
		})
	}
}

// TestIndexOrder pins the documented result orders: Covering most specific
// first, Inside and ByASN in (address, length) order.
func TestIndexOrder(t *testing.T) {
	vrps := []VRP{
		tvrp("10.0.0.0/24", 24, 1),
		tvrp("10.0.0.0/8", 8, 1),
		tvrp("10.0.0.0/16", 16, 2),
		tvrp("10.1.0.0/16", 16, 1),
		tvrp("2001:db8::/32", 32, 1),
	}
	ix := NewIndex(vrps)
	if got, want := ix.Covering(netip.MustParsePrefix("10.0.0.0/24"), nil), []uint32{0, 2, 1}; !slices.Equal(got, want) {
		t.Errorf("Covering = %v, want %v (most specific first)", got, want)
	}
	if got, want := ix.Inside(netip.MustParsePrefix("10.0.0.0/8"), nil), []uint32{2, 0, 3}; !slices.Equal(got, want) {
		t.Errorf("Inside = %v, want %v", got, want)
	}
	if got, want := ix.ByASN(1), []uint32{1, 0, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("ByASN(1) = %v, want %v", got, want)
	}
	if got := ix.ByASN(1); cap(got) != len(got) {
		t.Errorf("ByASN cap = %d, len = %d: appending would overwrite the index", cap(got), len(got))
	}
	if got := ix.ByASN(99); got != nil {
		t.Errorf("ByASN(99) = %v, want nil", got)
	}
	if got := ix.Inside(netip.MustParsePrefix("10.0.0.0/24"), nil); len(got) != 0 {
		t.Errorf("Inside(a leaf) = %v, want none (strictly more specific only)", got)
	}
}

// ---- real data ----

const ixRealVRPFile = "vrp/vrps.rpki-client.20250720T100143Z.json.bz2"

var ixReal struct {
	once sync.Once
	vrps []VRP
	err  error
}

// ixRealVRPs decodes the rpki-client export minimally, independent of the
// loader under test elsewhere: rpki-client writes one ROA object per line.
func ixRealVRPs(tb testing.TB) []VRP {
	tb.Helper()
	path := testutil.SharedData(tb, ixRealVRPFile)
	ixReal.once.Do(func() {
		f, err := os.Open(path)
		if err != nil {
			ixReal.err = err
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(bzip2.NewReader(f))
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		prefix := []byte(`{ "asn": `)
		var row struct {
			ASN       uint32 `json:"asn"`
			Prefix    string `json:"prefix"`
			MaxLength uint8  `json:"maxLength"`
			TA        string `json:"ta"`
		}
		line := 0
		for sc.Scan() {
			line++
			b := bytes.TrimSpace(sc.Bytes())
			if !bytes.HasPrefix(b, prefix) {
				continue
			}
			b = bytes.TrimSuffix(b, []byte(","))
			if err := json.Unmarshal(b, &row); err != nil {
				ixReal.err = fmt.Errorf("%s:%d: %w", path, line, err)
				return
			}
			p, err := netip.ParsePrefix(row.Prefix)
			if err != nil {
				ixReal.err = fmt.Errorf("%s:%d: %w", path, line, err)
				return
			}
			ixReal.vrps = append(ixReal.vrps, VRP{Prefix: p, MaxLen: row.MaxLength, ASN: row.ASN, TA: row.TA})
		}
		ixReal.err = sc.Err()
	})
	if ixReal.err != nil {
		tb.Fatalf("reading %s: %v", path, ixReal.err)
	}
	return ixReal.vrps
}

// realRoutes derives routes from real VRPs: the VRP prefix itself, one bit
// shorter or longer, up to maxLength+1, with the VRP's ASN, another real
// ASN, or NONE; plus a share of arbitrary prefixes (mostly NotFound).
func realRoutes(r *rand.Rand, vrps []VRP, n int) ([]netip.Prefix, []Origin) {
	ps := make([]netip.Prefix, n)
	os := make([]Origin, n)
	for i := range n {
		v := vrps[r.IntN(len(vrps))]
		width := v.Prefix.Addr().BitLen()
		var bits int
		switch r.IntN(4) {
		case 0:
			bits = v.Prefix.Bits()
		case 1:
			bits = max(v.Prefix.Bits()-1-r.IntN(2), 0)
		default:
			bits = min(int(v.MaxLen)+r.IntN(3)-1, width)
		}
		a := v.Prefix.Addr().As16()
		if v.Prefix.Addr().Is4() {
			a4 := v.Prefix.Addr().As4()
			binary.BigEndian.PutUint32(a4[:], binary.BigEndian.Uint32(a4[:])|r.Uint32()>>uint(min(v.Prefix.Bits(), 31)))
			ps[i] = netip.PrefixFrom(netip.AddrFrom4(a4), bits).Masked()
		} else {
			binary.BigEndian.PutUint64(a[8:], r.Uint64())
			ps[i] = netip.PrefixFrom(netip.AddrFrom16(a), bits).Masked()
		}
		if r.IntN(10) == 0 {
			ps[i] = randPrefixAnywhere(r)
		}
		switch k := r.IntN(20); {
		case k == 0:
			os[i] = Origin{Kind: OriginNone}
		case k < 14:
			os[i] = Origin{Kind: OriginAS, ASN: v.ASN}
		default:
			os[i] = Origin{Kind: OriginAS, ASN: vrps[r.IntN(len(vrps))].ASN}
		}
	}
	return ps, os
}

func randPrefixAnywhere(r *rand.Rand) netip.Prefix {
	if r.IntN(4) == 0 {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], 0x2000000000000000|r.Uint64()>>3)
		return netip.PrefixFrom(netip.AddrFrom16(b), 16+r.IntN(49)).Masked()
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], r.Uint32())
	return netip.PrefixFrom(netip.AddrFrom4(b), 8+r.IntN(25)).Masked()
}

// TestIndexOracleReal compares the index with oracles on the real VRP set:
// thousands of routes against a per-length map lookup (obviously correct:
// a prefix covers p iff it equals p masked to its own length), and a few
// hundred against the full slice scan.
func TestIndexOracleReal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: reading 723k real VRPs takes seconds; the random oracle test still runs")
	}
	start := time.Now()
	vrps := ixRealVRPs(t)
	t.Logf("read %d VRPs in %v", len(vrps), time.Since(start))
	if len(vrps) < 700000 {
		t.Fatalf("read %d VRPs from %s, want the 723524 of its metadata", len(vrps), ixRealVRPFile)
	}
	start = time.Now()
	ix := NewIndex(vrps)
	t.Logf("index built in %v", time.Since(start))
	byPrefix := make(map[netip.Prefix][]uint32)
	for i, v := range vrps {
		byPrefix[v.Prefix.Masked()] = append(byPrefix[v.Prefix.Masked()], uint32(i))
	}
	r := rand.New(rand.NewPCG(20250720, 1))
	n := 20000
	ps, os := realRoutes(r, vrps, n)
	hits := map[State]int{}
	buf := make([]uint32, 0, 16)
	for i, p := range ps {
		var want []uint32
		for b := 0; b <= p.Bits(); b++ {
			want = append(want, byPrefix[netip.PrefixFrom(p.Addr(), b).Masked()]...)
		}
		slices.Sort(want)
		if got := sortedCopy(ix.Covering(p, buf[:0])); !slices.Equal(got, want) {
			t.Fatalf("Covering(%s) = %v, want %v", p, got, want)
		}
		if got := sortedCopy(ix.CoveringTree(p, buf[:0])); !slices.Equal(got, want) {
			t.Fatalf("CoveringTree(%s) = %v, want %v", p, got, want)
		}
		hits[ix.Validate(p, os[i], buf).State]++
	}
	t.Logf("%d routes: %v", n, hits)
	for _, s := range []State{NotFound, Valid, Invalid} {
		if hits[s] < n/20 {
			t.Errorf("only %d of %d routes %v: route generator too one-sided", hits[s], n, s)
		}
	}
	t.Logf("map oracle done at %v", time.Since(start))
	scan := 20
	for i := range scan {
		checkAgainstOracle(t, ix, vrps, ps[i], os[i])
	}
}

// TestNewIndexHostBits: a VRP with host bits set (which loaders reject) is
// indexed as its masked prefix, on a copy, leaving the caller's slice alone.
func TestNewIndexHostBits(t *testing.T) {
	vrps := []VRP{{Prefix: netip.MustParsePrefix("192.0.2.77/24"), MaxLen: 24, ASN: 64500}}
	ix := NewIndex(vrps)
	if got := ix.Validate(netip.MustParsePrefix("192.0.2.0/24"), asOrigin(64500), nil); got.State != Valid {
		t.Errorf("Validate = %v, want valid", got.State)
	}
	if got, want := ix.VRPs()[0].Prefix, netip.MustParsePrefix("192.0.2.0/24"); got != want {
		t.Errorf("VRPs()[0].Prefix = %v, want %v", got, want)
	}
	if vrps[0].Prefix.Addr() != netip.MustParseAddr("192.0.2.77") {
		t.Errorf("caller's slice modified: %v", vrps[0].Prefix)
	}
}

// TestIndexConcurrent: the index is read-only after NewIndex, so goroutines
// sharing it must see exactly the sequential answers (run with -race).
func TestIndexConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	vrps := randVRPs(r, 500)
	ix := NewIndex(vrps)
	ps := make([]netip.Prefix, 2000)
	os := make([]Origin, len(ps))
	want := make([]State, len(ps))
	for i := range ps {
		ps[i], os[i] = randPrefix(r, r.IntN(2) == 1), randOrigin(r)
		want[i] = ix.Validate(ps[i], os[i], nil).State
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]uint32, 0, 4)
			for i := range ps {
				k := (i + g*500) % len(ps)
				res := ix.Validate(ps[k], os[k], buf)
				buf = res.VRPs[:0]
				ix.InsideByASN(ps[k], os[k].ASN, nil)
				if res.State != want[k] {
					errs <- fmt.Sprintf("goroutine %d: Validate(%s) = %v, want %v", g, ps[k], res.State, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestNewIndexHostBitsAnywhere: a prefix with host bits anywhere (first,
// inside a run of one address, last; IPv4 or IPv6; canonical or shuffled
// input) gives the index of the masked copy, and the caller's slice is
// left as it was.
func TestNewIndexHostBitsAnywhere(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for round := range 200 {
		vrps := randVRPs(r, 1+r.IntN(60))
		if round%2 == 0 {
			vrps = Canonicalize(vrps)
		}
		i := r.IntN(len(vrps))
		p := vrps[i].Prefix
		if p.Bits() == p.Addr().BitLen() {
			continue // no host bits to set
		}
		if p.Addr().Is4() {
			a := p.Addr().As4()
			a[3] |= 1
			vrps[i].Prefix = netip.PrefixFrom(netip.AddrFrom4(a), p.Bits())
		} else {
			b := p.Addr().As16()
			b[15] |= 1
			vrps[i].Prefix = netip.PrefixFrom(netip.AddrFrom16(b), p.Bits())
		}
		if vrps[i].Prefix == vrps[i].Prefix.Masked() {
			continue
		}
		orig := slices.Clone(vrps)
		masked := slices.Clone(vrps)
		for j := range masked {
			masked[j].Prefix = masked[j].Prefix.Masked()
		}
		got, want := NewIndex(vrps), NewIndex(masked)
		g4, g6, ga := got.Orders()
		w4, w6, wa := want.Orders()
		if !slices.Equal(got.VRPs(), masked) || !slices.Equal(g4, w4) || !slices.Equal(g6, w6) || !slices.Equal(ga, wa) {
			t.Fatalf("round %d: index of %v differs from that of its masked copy", round, vrps)
		}
		if !slices.Equal(vrps, orig) {
			t.Fatalf("round %d: caller's slice modified", round)
		}
	}
}
