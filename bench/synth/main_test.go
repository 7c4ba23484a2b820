package main

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/rov"
)

// testVRPs returns a seeded VRP set, 80% IPv4 /12-/22 and 20% IPv6
// /29-/40: fewer and wider than the real 723k, so that 20k prefixes fit
// without many collisions (which would skew the mix towards random space).
func testVRPs() []vrp {
	rng := rand.New(rand.NewPCG(7, 7))
	var vs []vrp
	for i := range 1000 {
		is4 := i%5 != 0
		bits := 12 + rng.IntN(11)
		limit := 24
		if !is4 {
			bits, limit = 29+rng.IntN(12), 48
		}
		p := randPrefix(rng, is4, bits)
		// maxLength at or just below the longest DFZ length, so that few
		// draws collide and the too-specific case has room.
		vs = append(vs, vrp{Prefix: p, MaxLen: uint8(limit - rng.IntN(2)), ASN: 1 + rng.Uint32N(64000)})
	}
	return vs
}

func generate(t *testing.T, cfg Config) ([]byte, int64) {
	t.Helper()
	var b bytes.Buffer
	n, err := Generate(&b, testVRPs(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), n
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Prefixes: 2000, Peers: 5, Seed: 42, Time: 1752995703, IPv6Percent: 15}
	a, _ := generate(t, cfg)
	b, _ := generate(t, cfg)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different output")
	}
	cfg.Seed = 43
	c, _ := generate(t, cfg)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same output")
	}
}

// TestReadBack decodes the generated table with the project's MRT reader
// and checks the promised mix against a brute-force RFC 6811 oracle over
// the seeding VRPs.
func TestReadBack(t *testing.T) {
	cfg := Config{Prefixes: 20000, Peers: 8, Seed: 1, Time: 1752995703, IPv6Percent: 15}
	data, entries := generate(t, cfg)
	vrps := testVRPs()
	r := mrt.NewReader(bytes.NewReader(data), mrt.Options{Name: "synthetic"})
	var routes, v4, sets, valid, pathLen int64
	prefixes := map[netip.Prefix]bool{}
	type key struct {
		p   netip.Prefix
		asn uint32
	}
	verdict := map[key]bool{} // oracle results per (prefix, origin)
	for r.Next() {
		rt := r.Route()
		routes++
		prefixes[rt.Prefix] = true
		if rt.Prefix.Addr().Is4() {
			v4++
		}
		for _, s := range rt.Path {
			pathLen += int64(len(s.ASNs))
		}
		if rt.Origin.Kind == rov.OriginNone {
			sets++
		}
		if rt.Origin.Kind == rov.OriginAS {
			k := key{rt.Prefix, rt.Origin.ASN}
			v, ok := verdict[k]
			if !ok {
				v = oracleValid(vrps, k.p, k.asn)
				verdict[k] = v
			}
			if v {
				valid++
			}
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if len(st.Skipped) != 0 || len(st.Problems) != 0 {
		t.Errorf("reader skipped %v, problems %v", st.Skipped, st.Problems)
	}
	if routes != entries {
		t.Errorf("read %d routes, generator wrote %d entries", routes, entries)
	}
	if len(prefixes) != cfg.Prefixes {
		t.Errorf("%d distinct prefixes, want %d", len(prefixes), cfg.Prefixes)
	}
	if len(r.Peers()) != cfg.Peers {
		t.Errorf("%d peers, want %d", len(r.Peers()), cfg.Peers)
	}
	checks := []struct {
		what     string
		got      float64
		min, max float64
	}{
		{"entries per prefix / peers (each peer carries 88-99.9%)", float64(routes) / float64(cfg.Prefixes) / float64(cfg.Peers), 0.88, 1},
		{"IPv4 share (DFZ: ~85%)", float64(v4) / float64(routes), 0.82, 0.88},
		{"mean AS path length (DFZ: ~4.5)", float64(pathLen) / float64(routes), 4.0, 5.2},
		{"RPKI-valid share (most routes)", float64(valid) / float64(routes), 0.70, 0.85},
		{"AS_SET share (0.02% of prefixes)", float64(sets) / float64(routes), 0, 0.002},
	}
	for _, c := range checks {
		t.Logf("%s = %.4f", c.what, c.got)
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s = %.4f, want in [%.4f, %.4f]", c.what, c.got, c.min, c.max)
		}
	}
}

// oracleValid is RFC 6811 §2 by brute force: some VRP covers p, allows its
// length and names asn.
func oracleValid(vrps []vrp, p netip.Prefix, asn uint32) bool {
	for _, v := range vrps {
		if v.Prefix.Bits() <= p.Bits() && v.Prefix.Contains(p.Addr()) && p.Bits() <= int(v.MaxLen) && v.ASN == asn {
			return true
		}
	}
	return false
}

// TestBgpdumpReads checks the output against an independent MRT decoder:
// bgpdump -m must print one line per entry and no error.
func TestBgpdumpReads(t *testing.T) {
	if _, err := exec.LookPath("bgpdump"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("bgpdump not installed (Debian package bgpdump)")
		}
		t.Skip("bgpdump not installed (Debian package bgpdump)")
	}
	data, entries := generate(t, Config{Prefixes: 3000, Peers: 6, Seed: 3, Time: 1752995703, IPv6Percent: 15})
	path := filepath.Join(t.TempDir(), "synth.mrt")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("bgpdump", "-m", path)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bgpdump: %v: %s", err, stderr.String())
	}
	if n := int64(bytes.Count(out, []byte("\n"))); n != entries {
		t.Errorf("bgpdump printed %d lines, want %d", n, entries)
	}
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l != "" && !strings.Contains(l, "logging to syslog") {
			t.Errorf("bgpdump stderr: %s", l)
		}
	}
}
