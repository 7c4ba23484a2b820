// Command synth writes a deterministic, realistic synthetic TABLE_DUMP_V2
// RIB (RFC 6396 §4.3) so that rovimpact can be measured at full-table scale:
// no recent full RouteViews/RIS RIB is available offline (see
// /work/shared/data/SOURCES.md), and a 2 GB file does not belong in git.
//
// The table imitates the DFZ where it matters for speed and for ROV:
// about 85% IPv4 and 15% IPv6 prefixes with the usual length mix (/24 and
// /48 dominant), prefixes and origins drawn from a real VRP export so that
// most routes are RPKI valid, some too specific or from the wrong origin,
// some in space no ROA covers; 35 peers that each carry most prefixes,
// AS paths of 2-8 hops (mean about 4.5) with occasional prepending,
// communities, and about 0.02% of prefixes ending in an AS_SET.
//
// The same flags and seed give the same bytes.
//
//	go run ./bench/synth -prefixes 1000000 -peers 35 -o bench/out/synth.mrt
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/rovimpact/rovimpact/internal/compressed"
)

// Config is what the generated table depends on; equal Configs and VRPs
// give identical output.
type Config struct {
	Prefixes int    // number of distinct prefixes
	Peers    int    // number of peers in the PEER_INDEX_TABLE
	Seed     uint64 // PRNG seed
	Time     uint32 // dump timestamp (seconds since the epoch)
	// IPv6Percent is the share of IPv6 prefixes, 0-100. RouteViews
	// publishes one RIB per family (0 or 100); RIPE RIS mixes both (15).
	IPv6Percent int
}

func main() {
	vrpPath := flag.String("vrps", "/work/shared/data/vrp/vrps.rpki-client.20250720T100143Z.json.bz2", "VRP export (any format and compression rov.LoadVRPs and compressed.Open read) seeding prefixes and origins")
	n := flag.Int("prefixes", 1_000_000, "number of prefixes")
	peers := flag.Int("peers", 35, "number of peers")
	seed := flag.Uint64("seed", 1, "PRNG seed")
	out := flag.String("o", "-", "output file (- for stdout)")
	gz := flag.Bool("gzip", false, "gzip the output (fast level)")
	v6 := flag.Int("ipv6", 15, "percentage of IPv6 prefixes (0: an IPv4-only RIB like RouteViews' rib.*, 100: like rib6.*)")
	flag.Parse()
	if err := run(*vrpPath, *out, *gz, Config{Prefixes: *n, Peers: *peers, Seed: *seed, Time: 1752995703, IPv6Percent: *v6}); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

func run(vrpPath, out string, gz bool, cfg Config) error {
	if cfg.Peers < 1 || cfg.Peers > 65535 || cfg.Prefixes < 1 || cfg.IPv6Percent < 0 || cfg.IPv6Percent > 100 {
		return fmt.Errorf("need 1..65535 peers, at least 1 prefix and an IPv6 share of 0..100%%")
	}
	start := time.Now()
	f, err := compressed.Open(vrpPath)
	if err != nil {
		return err
	}
	vrps, err := loadVRPs(f, vrpPath)
	f.Close()
	if err != nil {
		return err
	}
	var w io.Writer = os.Stdout
	var closers []io.Closer
	if out != "-" {
		of, err := os.Create(out)
		if err != nil {
			return err
		}
		closers = append(closers, of)
		w = of
	}
	if gz {
		zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
		if err != nil {
			return err
		}
		closers = append([]io.Closer{zw}, closers...)
		w = zw
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	entries, err := Generate(bw, vrps, cfg)
	if err == nil {
		err = bw.Flush()
	}
	for _, c := range closers {
		err = errors.Join(err, c.Close())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "synth: %d prefixes, %d peers, %d RIB entries in %v\n",
		cfg.Prefixes, cfg.Peers, entries, time.Since(start).Round(time.Millisecond))
	return nil
}

// vrp is the part of a VRP (rov.VRP) the generator uses.
type vrp struct {
	Prefix netip.Prefix
	MaxLen uint8
	ASN    uint32
}

// loadVRPs reads the "roas" array of an rpki-client or Routinator JSON
// export. It is deliberately independent of package rov, so the benchmark
// input does not change when the loader under test does; entries it cannot
// parse are counted and reported, not used.
func loadVRPs(r io.Reader, name string) ([]vrp, error) {
	var doc struct {
		ROAs []struct {
			ASN       any    `json:"asn"`
			Prefix    string `json:"prefix"`
			MaxLength int    `json:"maxLength"`
		} `json:"roas"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	vrps := make([]vrp, 0, len(doc.ROAs))
	bad := 0
	for _, e := range doc.ROAs {
		var asn uint64
		var err error
		switch a := e.ASN.(type) {
		case float64:
			asn = uint64(a)
		case string:
			asn, err = strconv.ParseUint(strings.TrimPrefix(a, "AS"), 10, 32)
		}
		p, perr := netip.ParsePrefix(e.Prefix)
		if err != nil || perr != nil || e.MaxLength < p.Bits() || e.MaxLength > p.Addr().BitLen() {
			bad++
			continue
		}
		vrps = append(vrps, vrp{Prefix: p.Masked(), MaxLen: uint8(e.MaxLength), ASN: uint32(asn)})
	}
	if bad > 0 {
		fmt.Fprintf(os.Stderr, "synth: %s: %d unusable roas entries skipped\n", name, bad)
	}
	return vrps, nil
}

// prefixInfo is one generated prefix with what its paths share.
type prefixInfo struct {
	pfx      netip.Prefix
	origin   uint32
	up1, up2 uint32 // the origin's upstreams, shared by all peers' paths
	set      bool   // path ends in an AS_SET (origin NONE, RFC 6811 §2)
}

// Generate writes the PEER_INDEX_TABLE and one RIB record per prefix to w
// and returns the number of RIB entries written.
func Generate(w io.Writer, vrps []vrp, cfg Config) (int64, error) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	var v4, v6 []vrp
	for _, v := range vrps {
		if v.ASN == 0 {
			continue // AS0 ROAs say "never announce": not a source of origins
		}
		if v.Prefix.Addr().Is4() {
			v4 = append(v4, v)
		} else {
			v6 = append(v6, v)
		}
	}
	if (len(v4) == 0 && cfg.IPv6Percent < 100) || (len(v6) == 0 && cfg.IPv6Percent > 0) {
		return 0, fmt.Errorf("VRPs lack a family the table needs (%d IPv4, %d IPv6)", len(v4), len(v6))
	}
	pfxs := genPrefixes(rng, v4, v6, cfg.Prefixes, cfg.IPv6Percent)
	peers := genPeers(rng, cfg.Peers)
	g := &writer{w: w, cfg: cfg, peers: peers, rng: rng}
	if err := g.peerIndex(); err != nil {
		return 0, err
	}
	for i := range pfxs {
		if err := g.rib(uint32(i), &pfxs[i]); err != nil {
			return g.entries, err
		}
	}
	return g.entries, nil
}

// Length mixes, roughly the 2025 DFZ (bgp.potaroo.net): weights per length.
var (
	v4Lengths = weighted(map[int]int{24: 600, 23: 90, 22: 110, 21: 45, 20: 45, 19: 30, 18: 15, 17: 10, 16: 40, 15: 3, 14: 2, 13: 1, 12: 1})
	v6Lengths = weighted(map[int]int{48: 450, 32: 150, 44: 70, 40: 60, 36: 40, 29: 40, 47: 30, 46: 30, 45: 20, 42: 20, 33: 20, 34: 15, 35: 15, 38: 15, 39: 10, 43: 10, 30: 5, 28: 5})
)

// weighted expands a length→weight table into a slice to index uniformly.
func weighted(m map[int]int) []uint8 {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic order
	var out []uint8
	for _, k := range keys {
		for range m[k] {
			out = append(out, uint8(k))
		}
	}
	return out
}

// genPrefixes draws n distinct prefixes, v6pct% IPv6, sorted as a RIB dump
// orders them (IPv4 then IPv6, by address then length).
//
// Of the prefixes, 78% are inside a VRP within its maxLength and carry its
// ASN (RPKI valid), 4% are more specific than maxLength (invalid, too
// specific), 4% carry another origin (invalid, wrong origin), 14% are
// random space with a random origin (mostly NotFound).
func genPrefixes(rng *rand.Rand, v4, v6 []vrp, n, v6pct int) []prefixInfo {
	seen := make(map[netip.Prefix]struct{}, n)
	out := make([]prefixInfo, 0, n)
	for len(out) < n {
		is4 := rng.IntN(100) >= v6pct
		vs, lengths, maxBits := v6, v6Lengths, 48
		if is4 {
			vs, lengths, maxBits = v4, v4Lengths, 24
		}
		want := int(lengths[rng.IntN(len(lengths))])
		var p prefixInfo
		switch k := rng.IntN(100); {
		case k < 86: // inside a VRP: valid, too specific or wrong origin
			v := vs[rng.IntN(len(vs))]
			lo, hi := v.Prefix.Bits(), int(v.MaxLen)
			bits := min(max(want, lo), hi)
			p.origin = v.ASN
			switch {
			case k >= 78 && k < 82 && hi < maxBits: // too specific
				bits = hi + 1 + rng.IntN(min(2, maxBits-hi))
			case k >= 82: // wrong origin
				p.origin = randASN(rng)
			}
			p.pfx = randSubprefix(rng, v.Prefix, bits)
		default: // random space
			p.pfx = randPrefix(rng, is4, want)
			p.origin = randASN(rng)
		}
		if _, dup := seen[p.pfx]; dup {
			continue
		}
		seen[p.pfx] = struct{}{}
		p.up1, p.up2 = randTransit(rng), randTransit(rng)
		p.set = rng.IntN(5000) == 0 // 0.02%
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b prefixInfo) int {
		if a.pfx.Addr().Is4() != b.pfx.Addr().Is4() {
			if a.pfx.Addr().Is4() {
				return -1
			}
			return 1
		}
		if c := a.pfx.Addr().Compare(b.pfx.Addr()); c != 0 {
			return c
		}
		return a.pfx.Bits() - b.pfx.Bits()
	})
	return out
}

// randSubprefix returns a random prefix of length bits inside p (bits >= p.Bits()).
func randSubprefix(rng *rand.Rand, p netip.Prefix, bits int) netip.Prefix {
	a := p.Addr().As16()
	start := p.Bits()
	if p.Addr().Is4() {
		start += 96
		bits += 96
	}
	for i := start; i < bits; i++ {
		if rng.IntN(2) == 1 {
			a[i/8] |= 0x80 >> (i % 8)
		}
	}
	addr := netip.AddrFrom16(a)
	if p.Addr().Is4() {
		addr = addr.Unmap()
		bits -= 96
	}
	return netip.PrefixFrom(addr, bits).Masked()
}

// randPrefix returns a prefix in unicast space: 1.0.0.0-223.255.255.255
// for IPv4, 2000::/3 for IPv6.
func randPrefix(rng *rand.Rand, is4 bool, bits int) netip.Prefix {
	if is4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], rng.Uint32())
		b[0] = byte(1 + rng.IntN(223))
		return netip.PrefixFrom(netip.AddrFrom4(b), bits).Masked()
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], rng.Uint64())
	b[0] = 0x20 | b[0]&0x1f
	return netip.PrefixFrom(netip.AddrFrom16(b), bits).Masked()
}

// Transit ASes that fill the middle of paths, as in real DFZ paths.
var transit = []uint32{3356, 1299, 174, 2914, 6939, 6453, 3257, 6762, 7018, 3491, 1239, 701, 6461, 5511, 12956, 9002, 4637, 7473, 2497, 4826, 37100, 293, 11537, 20912, 8220, 31133, 3549, 209, 1273, 12389, 6830, 9498, 4766, 13030, 34549, 24482, 7922, 3320, 3303, 2516}

func randTransit(rng *rand.Rand) uint32 { return transit[rng.IntN(len(transit))] }

// randASN returns a public-looking ASN, 2-byte or 4-byte.
func randASN(rng *rand.Rand) uint32 {
	if rng.IntN(3) == 0 {
		return 131072 + rng.Uint32N(270000) // 4-byte range in use
	}
	return 1 + rng.Uint32N(64000)
}

type peer struct {
	as    uint32
	ip    netip.Addr
	bgpID [4]byte
	share int // per-mille of prefixes this peer carries
}

// genPeers makes n peers: full-table transit feeds, a quarter over IPv6
// sessions, each carrying 88-99.9% of the prefixes.
func genPeers(rng *rand.Rand, n int) []peer {
	ps := make([]peer, n)
	for i := range ps {
		p := &ps[i]
		p.as = transit[i%len(transit)]
		if i >= len(transit) {
			p.as = randASN(rng)
		}
		if i%4 == 3 {
			p.ip = netip.AddrFrom16([16]byte{0x20, 0x01, 0x07, 0xf8, 0, 0x04, 14: byte(i >> 8), 15: byte(i)})
		} else {
			p.ip = netip.AddrFrom4([4]byte{198, 32, byte(160 + i>>8), byte(i)})
		}
		p.bgpID = [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		p.share = 880 + rng.IntN(120)
	}
	return ps
}

// Path-length mix 2..8 (weights per length), mean about 4.5.
var pathLengths = weighted(map[int]int{2: 8, 3: 20, 4: 27, 5: 20, 6: 13, 7: 7, 8: 5})

type writer struct {
	w       io.Writer
	cfg     Config
	peers   []peer
	rng     *rand.Rand
	buf     []byte
	entries int64
}

// MRT type and subtypes (RFC 6396 §4.3).
const (
	typeTableDumpV2   = 13
	subPeerIndexTable = 1
	subRIBIPv4Unicast = 2
	subRIBIPv6Unicast = 4
)

// header appends an MRT common header (RFC 6396 §2) with a length to be
// patched by finish.
func (g *writer) header(subtype uint16) {
	g.buf = binary.BigEndian.AppendUint32(g.buf[:0], g.cfg.Time)
	g.buf = binary.BigEndian.AppendUint16(g.buf, typeTableDumpV2)
	g.buf = binary.BigEndian.AppendUint16(g.buf, subtype)
	g.buf = append(g.buf, 0, 0, 0, 0)
}

func (g *writer) finish() error {
	binary.BigEndian.PutUint32(g.buf[8:12], uint32(len(g.buf)-12))
	_, err := g.w.Write(g.buf)
	return err
}

// peerIndex writes the PEER_INDEX_TABLE (RFC 6396 §4.3.1); every peer is
// written with a 4-byte AS (peer type bit 1).
func (g *writer) peerIndex() error {
	g.header(subPeerIndexTable)
	g.buf = append(g.buf, 192, 0, 2, 1) // collector BGP ID
	view := "synthetic"
	g.buf = binary.BigEndian.AppendUint16(g.buf, uint16(len(view)))
	g.buf = append(g.buf, view...)
	g.buf = binary.BigEndian.AppendUint16(g.buf, uint16(len(g.peers)))
	for _, p := range g.peers {
		typ := byte(0x02) // AS4
		if p.ip.Is6() {
			typ |= 0x01
		}
		g.buf = append(g.buf, typ)
		g.buf = append(g.buf, p.bgpID[:]...)
		g.buf = append(g.buf, p.ip.AsSlice()...)
		g.buf = binary.BigEndian.AppendUint32(g.buf, p.as)
	}
	return g.finish()
}

// BGP path attribute type codes (RFC 4271 §5.1, RFC 1997, RFC 4760).
const (
	attrOrigin      = 1
	attrASPath      = 2
	attrNextHop     = 3
	attrCommunities = 8
	attrMPReach     = 14
)

// rib writes one RIB_IPV4_UNICAST or RIB_IPV6_UNICAST record (RFC 6396
// §4.3.2) with an entry for each peer that carries p.
func (g *writer) rib(seq uint32, p *prefixInfo) error {
	is4 := p.pfx.Addr().Is4()
	if is4 {
		g.header(subRIBIPv4Unicast)
	} else {
		g.header(subRIBIPv6Unicast)
	}
	g.buf = binary.BigEndian.AppendUint32(g.buf, seq)
	bits := p.pfx.Bits()
	g.buf = append(g.buf, byte(bits))
	g.buf = append(g.buf, p.pfx.Addr().AsSlice()[:(bits+7)/8]...)
	countAt := len(g.buf)
	g.buf = append(g.buf, 0, 0)
	count := 0
	for i := range g.peers {
		pr := &g.peers[i]
		if g.rng.IntN(1000) >= pr.share {
			continue
		}
		count++
		g.buf = binary.BigEndian.AppendUint16(g.buf, uint16(i))
		g.buf = binary.BigEndian.AppendUint32(g.buf, g.cfg.Time-uint32(g.rng.IntN(30*86400)))
		lenAt := len(g.buf)
		g.buf = append(g.buf, 0, 0)
		g.attrs(pr, p, is4)
		binary.BigEndian.PutUint16(g.buf[lenAt:], uint16(len(g.buf)-lenAt-2))
	}
	binary.BigEndian.PutUint16(g.buf[countAt:], uint16(count))
	g.entries += int64(count)
	return g.finish()
}

// attrs appends ORIGIN, AS_PATH (4-byte ASNs, RFC 6793 as TABLE_DUMP_V2
// requires, RFC 6396 §4.3.4), NEXT_HOP or the abbreviated MP_REACH_NLRI of
// RFC 6396 §4.3.4 (next hop length and address only), and COMMUNITIES.
func (g *writer) attrs(pr *peer, p *prefixInfo, is4 bool) {
	rng := g.rng
	origin := byte(0) // IGP
	if rng.IntN(20) == 0 {
		origin = 2 // INCOMPLETE
	}
	g.buf = append(g.buf, 0x40, attrOrigin, 1, origin)

	// AS_PATH: peer AS, transit middle, the prefix's upstreams, origin
	// (sometimes prepended), and for a few prefixes an AS_SET at the end.
	var path [16]uint32
	n := int(pathLengths[rng.IntN(len(pathLengths))])
	path[0] = pr.as
	k := 1
	for ; k < n-3; k++ {
		path[k] = randTransit(rng)
	}
	if k < n-2 {
		path[k] = p.up2
		k++
	}
	if k < n-1 {
		path[k] = p.up1
		k++
	}
	path[k] = p.origin
	k++
	if rng.IntN(20) == 0 { // prepending
		path[k], path[k+1] = p.origin, p.origin
		k += 2
	}
	segLen := 2 + 4*k
	if p.set {
		segLen += 2 + 4*2
	}
	g.buf = append(g.buf, 0x40, attrASPath, byte(segLen)) // segLen <= 74
	g.buf = append(g.buf, 2, byte(k))                     // AS_SEQUENCE
	for _, a := range path[:k] {
		g.buf = binary.BigEndian.AppendUint32(g.buf, a)
	}
	if p.set {
		g.buf = append(g.buf, 1, 2) // AS_SET of two aggregated origins
		g.buf = binary.BigEndian.AppendUint32(g.buf, p.origin)
		g.buf = binary.BigEndian.AppendUint32(g.buf, p.origin+1)
	}

	if is4 {
		nh := [4]byte{198, 32, 200, byte(pr.bgpID[3])}
		if pr.ip.Is4() {
			nh = pr.ip.As4()
		}
		g.buf = append(g.buf, 0x40, attrNextHop, 4)
		g.buf = append(g.buf, nh[:]...)
	} else {
		nh := [16]byte{0x20, 0x01, 0x07, 0xf8, 0, 0x04, 15: pr.bgpID[3]}
		if pr.ip.Is6() {
			nh = pr.ip.As16()
		}
		g.buf = append(g.buf, 0x80, attrMPReach, 17, 16)
		g.buf = append(g.buf, nh[:]...)
	}

	if c := rng.IntN(8); c > 0 {
		g.buf = append(g.buf, 0xc0, attrCommunities, byte(4*c))
		for j := range c {
			g.buf = binary.BigEndian.AppendUint16(g.buf, uint16(pr.as))
			g.buf = binary.BigEndian.AppendUint16(g.buf, uint16(100+j*rng.IntN(50)))
		}
	}
}
