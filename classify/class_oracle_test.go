package classify

import (
	"compress/bzip2"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/rov"
)

// classOracle classifies from the written rules with plain scans: covering
// returns C, ownVRPs every VRP of an ASN. It returns the verdict and the
// VRP sets it must report: primary (first in Verdict.VRPs, any order) and
// all (the whole of Verdict.VRPs).
type classOracle struct {
	vrps     []rov.VRP
	covering func(netip.Prefix) []uint32
	ownVRPs  func(uint32) []uint32
}

func scanOracle(vrps []rov.VRP) classOracle {
	return classOracle{
		vrps: vrps,
		covering: func(p netip.Prefix) []uint32 {
			var out []uint32
			for i, v := range vrps {
				if covers(v.Prefix, p) {
					out = append(out, uint32(i))
				}
			}
			return out
		},
		ownVRPs: func(asn uint32) []uint32 {
			var out []uint32
			for i, v := range vrps {
				if v.ASN == asn {
					out = append(out, uint32(i))
				}
			}
			return out
		},
	}
}

func covers(v, p netip.Prefix) bool {
	return v.Addr().Is4() == p.Addr().Is4() && v.Bits() <= p.Bits() && v.Masked().Contains(p.Addr())
}

func (or classOracle) classify(p netip.Prefix, o rov.Origin) (v Verdict, primary, all []uint32) {
	c := or.covering(p)
	if len(c) == 0 {
		return Verdict{State: rov.NotFound}, nil, nil
	}
	var match, a, allow []uint32
	as0 := true
	for _, i := range c {
		v := or.vrps[i]
		if v.ASN != 0 {
			as0 = false
		}
		if o.Kind == rov.OriginAS && v.ASN != 0 && v.ASN == o.ASN {
			a = append(a, i)
			if p.Bits() <= int(v.MaxLen) {
				match = append(match, i)
			}
		}
		if p.Bits() <= int(v.MaxLen) {
			allow = append(allow, i)
		}
	}
	if len(match) > 0 {
		return Verdict{State: rov.Valid}, match, match
	}
	v = Verdict{State: rov.Invalid, AS0: as0}
	switch {
	case o.Kind == rov.OriginNone:
		v.Class = ASSet
		return v, c, c
	case len(a) > 0:
		v.Class = TooSpecific
		return v, a, a
	}
	if o.Kind == rov.OriginAS && o.ASN != 0 {
		var inside []uint32
		for _, i := range or.ownVRPs(o.ASN) {
			if q := or.vrps[i].Prefix; q.Bits() > p.Bits() && covers(p, q) {
				inside = append(inside, i)
			}
		}
		if len(inside) > 0 {
			v.Class = TooShort
			return v, inside, append(slices.Clone(inside), c...)
		}
	}
	if len(allow) > 0 {
		v.Class = WrongOrigin
		return v, allow, c
	}
	v.Class = Both
	return v, c, c
}

func sorted(s []uint32) []uint32 { return slices.Sorted(slices.Values(s)) }

func checkClassify(t *testing.T, c *Classifier, or classOracle, p netip.Prefix, o rov.Origin) Verdict {
	t.Helper()
	want, primary, all := or.classify(p, o)
	got := c.Classify(p, o)
	if got.State != want.State || got.Class != want.Class || got.AS0 != want.AS0 {
		t.Fatalf("Classify(%s, %+v) = %v/%q/as0=%v, want %v/%q/as0=%v", p, o, got.State, got.Class, got.AS0, want.State, want.Class, want.AS0)
	}
	if len(got.VRPs) < len(primary) || !slices.Equal(sorted(got.VRPs[:len(primary)]), sorted(primary)) || !slices.Equal(sorted(got.VRPs), sorted(all)) {
		t.Fatalf("Classify(%s, %+v) %v VRPs = %v, want %v first, then the rest of %v", p, o, got.Class, got.VRPs, primary, all)
	}
	if got.Class == TooSpecific {
		for _, i := range got.VRPs {
			if int(c.ix.MaxLen(i)) >= p.Bits() {
				t.Fatalf("too_specific %s: VRP %s allows the route", p, c.ix.VRP(i))
			}
		}
	}
	return got
}

func genPrefix(r *rand.Rand) netip.Prefix {
	if r.IntN(2) == 0 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(10)<<24|r.Uint32()&0x00FF0F0F)
		return netip.PrefixFrom(netip.AddrFrom4(b), 12+r.IntN(21)).Masked()
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(0x20010db8)<<32|uint64(r.Uint32()&0x00FF00F0))
	binary.BigEndian.PutUint64(b[8:], r.Uint64()&0xF)
	bits := 28 + r.IntN(37)
	if r.IntN(10) == 0 {
		bits = 65 + r.IntN(64)
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), bits).Masked()
}

// TestClassifyOracleRandom holds Classify to the scan oracle on seeded
// random VRPs and routes drawn from narrow regions, so routes are covered,
// hold VRPs inside and meet several ASes at once.
func TestClassifyOracleRandom(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			vrps := make([]rov.VRP, 50+int(seed)*400)
			for i := range vrps {
				p := genPrefix(r)
				ml := p.Bits()
				if r.IntN(2) == 0 {
					ml += r.IntN(p.Addr().BitLen() - p.Bits() + 1)
				}
				vrps[i] = rov.VRP{Prefix: p, MaxLen: uint8(ml), ASN: uint32(r.IntN(5))}
			}
			c := NewClassifier(rov.NewIndex(vrps))
			or := scanOracle(vrps)
			hits := map[string]int{}
			for range 3000 {
				p := genPrefix(r)
				if r.IntN(3) == 0 {
					// Shorten a VRP: the origin may hold VRPs inside.
					q := vrps[r.IntN(len(vrps))].Prefix
					p = netip.PrefixFrom(q.Addr(), max(q.Bits()-1-r.IntN(3), 0)).Masked()
				}
				o := rov.Origin{Kind: rov.OriginAS, ASN: uint32(r.IntN(6))}
				switch r.IntN(20) {
				case 0:
					o = none
				case 1:
					o = local
				}
				v := checkClassify(t, c, or, p, o)
				hits[v.State.String()+"/"+v.Class.String()]++
			}
			t.Logf("%v", hits)
			if seed >= 2 {
				for _, k := range []string{"valid/", "not_found/", "invalid/as_set", "invalid/too_specific", "invalid/too_short", "invalid/wrong_origin", "invalid/both"} {
					if hits[k] == 0 {
						t.Errorf("no %s verdict in 3000 routes: generator too narrow (%v)", k, hits)
					}
				}
			}
		})
	}
}

// ---- real data ----

const realVRPFile = "vrp/vrps.rpki-client.20250720T100143Z.json.bz2"

var real struct {
	once sync.Once
	vrps []rov.VRP
	err  error
}

func realVRPs(tb testing.TB) []rov.VRP {
	tb.Helper()
	path := testutil.SharedData(tb, realVRPFile)
	real.once.Do(func() {
		f, err := os.Open(path)
		if err != nil {
			real.err = err
			return
		}
		defer f.Close()
		real.vrps, _, real.err = rov.LoadVRPs(bzip2.NewReader(f), path, rov.LoadOptions{})
	})
	if real.err != nil {
		tb.Fatalf("loading %s: %v", path, real.err)
	}
	return real.vrps
}

// realRoutes derives routes from real VRPs: the prefix itself, shorter
// (the origin may hold VRPs inside: too_short), up to maxLength+1
// (too_specific), with the VRP's ASN, another real ASN or NONE; and some
// arbitrary prefixes (mostly NotFound).
func realRoutes(r *rand.Rand, vrps []rov.VRP, n int) ([]netip.Prefix, []rov.Origin) {
	ps := make([]netip.Prefix, n)
	os := make([]rov.Origin, n)
	for i := range n {
		v := vrps[r.IntN(len(vrps))]
		width := v.Prefix.Addr().BitLen()
		bits := v.Prefix.Bits()
		switch r.IntN(4) {
		case 0:
		case 1:
			bits = max(bits-1-r.IntN(3), 0)
		default:
			bits = min(int(v.MaxLen)+r.IntN(3)-1, width)
		}
		if v.Prefix.Addr().Is4() {
			a := v.Prefix.Addr().As4()
			binary.BigEndian.PutUint32(a[:], binary.BigEndian.Uint32(a[:])|r.Uint32()>>uint(min(v.Prefix.Bits(), 31)))
			ps[i] = netip.PrefixFrom(netip.AddrFrom4(a), bits).Masked()
		} else {
			a := v.Prefix.Addr().As16()
			binary.BigEndian.PutUint64(a[8:], r.Uint64())
			ps[i] = netip.PrefixFrom(netip.AddrFrom16(a), bits).Masked()
		}
		if r.IntN(10) == 0 {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], r.Uint32())
			ps[i] = netip.PrefixFrom(netip.AddrFrom4(b), 8+r.IntN(17)).Masked()
		}
		switch k := r.IntN(40); {
		case k == 0:
			os[i] = none
		case k < 28:
			os[i] = asn(v.ASN)
		default:
			os[i] = asn(vrps[r.IntN(len(vrps))].ASN)
		}
	}
	return ps, os
}

// TestClassifyOracleReal compares Classify with the oracle on the real VRP
// set; C comes from a per-length map lookup (a prefix covers p iff it equals
// p masked to its own length) and the origin's VRPs from a per-ASN list, so
// thousands of routes take well under a second after loading.
func TestClassifyOracleReal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: loading 723k real VRPs takes seconds")
	}
	vrps := realVRPs(t)
	c := NewClassifier(rov.NewIndex(vrps))
	byPrefix := map[netip.Prefix][]uint32{}
	byASN := map[uint32][]uint32{}
	for i, v := range vrps {
		byPrefix[v.Prefix] = append(byPrefix[v.Prefix], uint32(i))
		byASN[v.ASN] = append(byASN[v.ASN], uint32(i))
	}
	or := classOracle{
		vrps: vrps,
		covering: func(p netip.Prefix) []uint32 {
			var out []uint32
			for b := 0; b <= p.Bits(); b++ {
				out = append(out, byPrefix[netip.PrefixFrom(p.Addr(), b).Masked()]...)
			}
			return out
		},
		ownVRPs: func(a uint32) []uint32 { return byASN[a] },
	}
	ps, os := realRoutes(rand.New(rand.NewPCG(20250720, 7)), vrps, 20000)
	hits := map[string]int{}
	for i, p := range ps {
		v := checkClassify(t, c, or, p, os[i])
		hits[v.State.String()+"/"+v.Class.String()]++
		if v.State != rov.NotFound && Explain(v, vrps, p, os[i]) == "" {
			t.Fatalf("empty explanation for %s", p)
		}
	}
	t.Logf("%d routes: %v", len(ps), hits)
	for _, k := range []string{"valid/", "not_found/", "invalid/as_set", "invalid/too_specific", "invalid/too_short", "invalid/wrong_origin", "invalid/both"} {
		if hits[k] == 0 {
			t.Errorf("no %s verdict among %d real-ish routes (%v)", k, len(ps), hits)
		}
	}
}
