// Command gen rebuilds the sample shipped in testdata/sample from the real
// data in ../shared/data: it analyses real RouteViews RIB dumps against the
// real rpki-client VRP export, picks invalid routes so that every class and
// every impact appears, and copies the raw MRT records of those prefixes and
// of everything that decides their impact (same prefix, covering prefixes,
// more-specifics) byte for byte, with the VRPs that cover or sit inside
// them. Run from the repository root:
//
//	go run ./testdata/sample/gen
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/netip"
	"os"
	"slices"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

func main() {
	shared := flag.String("shared", "../shared/data", "shared data directory")
	out := flag.String("out", "testdata/sample", "output directory")
	perKind := flag.Int("n", 3, "invalid routes picked per class and per impact")
	flag.Parse()

	f, err := compressed.Open(*shared + "/vrp/vrps.rpki-client.20250720T100143Z.json.bz2")
	check(err)
	vrps, _, err := rov.LoadVRPs(f, f.Name(), rov.LoadOptions{})
	check(err)
	ix := rov.NewIndex(vrps)

	ribs := []struct{ in, out string }{
		{*shared + "/mrt/rib.20140523.0600.route-views2.first1MB-truncated.bz2", "routes-v4.mrt"},
		{*shared + "/mrt/rib6.20151101.0600.route-views6.first1MB-truncated.bz2", "routes-v6.mrt"},
	}
	keepVRP := map[uint32]bool{}
	for _, rib := range ribs {
		t := table.New()
		in := table.NewIngester(t, table.IngestOptions{})
		f, err := compressed.Open(rib.in)
		check(err)
		src := mrt.NewReader(f, mrt.Options{Name: rib.in})
		if err := in.Read(src); err != nil {
			log.Printf("%s: %v (using the complete records)", rib.in, err)
		}
		f.Close()
		in.Finish()
		a := classify.Analyze(t, ix, classify.Options{})
		want := pick(a, *perKind)
		for id, r := range t.Routes() {
			if !want[r.Prefix] {
				continue
			}
			for _, v := range a.VRPs(id) {
				keepVRP[v] = true
			}
			// The origin's own VRPs inside the prefix decide too_short.
			if o := a.Outcomes[id].Origin; o.Kind == rov.OriginAS {
				for _, v := range ix.InsideByASN(r.Prefix, o.ASN, nil) {
					keepVRP[v] = true
				}
			}
		}
		for p := range want {
			for _, v := range ix.Covering(p, nil) {
				keepVRP[v] = true
			}
		}
		n := copyRecords(rib.in, *out+"/"+rib.out, want)
		log.Printf("%s: %d prefixes, %d records", rib.out, len(want), n)
	}
	writeVRPs(*out+"/vrps.json", vrps, keepVRP)
}

// pick chooses invalid routes per class and per impact and returns every
// prefix that decides their verdicts.
func pick(a *classify.Analysis, n int) map[netip.Prefix]bool {
	want := map[netip.Prefix]bool{}
	byClass := map[classify.Class]int{}
	byImpact := map[classify.Impact]int{}
	routes := a.Table.Routes()
	ids := make([]int, len(routes))
	for i := range ids {
		ids[i] = i
	}
	// Deterministic: walk routes in prefix order.
	slices.SortFunc(ids, func(x, y int) int {
		if c := routes[x].Prefix.Addr().Compare(routes[y].Prefix.Addr()); c != 0 {
			return c
		}
		return routes[x].Prefix.Bits() - routes[y].Prefix.Bits()
	})
	notFound := 0
	for _, id := range ids {
		o := a.Outcomes[id]
		if o.State == rov.NotFound && notFound < n && countInside(a, routes[id].Prefix) == 0 {
			notFound++
			want[routes[id].Prefix] = true
		}
		if o.State != rov.Invalid {
			continue
		}
		as := a.Assess(id, nil)
		if byClass[o.Class] >= n && byImpact[as.Impact] >= n {
			continue
		}
		if countInside(a, routes[id].Prefix) > 12 {
			continue // keep the sample small
		}
		byClass[o.Class]++
		byImpact[as.Impact]++
		p := routes[id].Prefix
		want[p] = true
		if as.Cover.IsValid() {
			want[as.Cover] = true
		}
		if as.Impact == classify.MoreSpecifics || as.Impact == classify.Unreachable {
			for _, r := range routes {
				if r.Prefix.Bits() > p.Bits() && p.Contains(r.Prefix.Addr()) {
					want[r.Prefix] = true
				}
			}
		}
	}
	log.Printf("classes %v impacts %v", byClass, byImpact)
	return want
}

func countInside(a *classify.Analysis, p netip.Prefix) int {
	n := 0
	for _, r := range a.Table.Routes() {
		if r.Prefix.Bits() > p.Bits() && p.Contains(r.Prefix.Addr()) {
			n++
		}
	}
	return n
}

// copyRecords copies the PEER_INDEX_TABLE and the RIB records of the wanted
// prefixes, raw, from an MRT TABLE_DUMP_V2 file.
func copyRecords(in, out string, want map[netip.Prefix]bool) int {
	f, err := compressed.Open(in)
	check(err)
	defer f.Close()
	r := bufio.NewReader(f)
	w, err := os.Create(out)
	check(err)
	defer w.Close()
	n := 0
	for {
		hdr := make([]byte, 12)
		if _, err := io.ReadFull(r, hdr); err != nil {
			break
		}
		body := make([]byte, binary.BigEndian.Uint32(hdr[8:]))
		if _, err := io.ReadFull(r, body); err != nil {
			break // truncated tail
		}
		typ, sub := binary.BigEndian.Uint16(hdr[4:]), binary.BigEndian.Uint16(hdr[6:])
		keep := typ == 13 && sub == 1 // PEER_INDEX_TABLE
		if typ == 13 && (sub == 2 || sub == 4) && len(body) > 4 {
			bits := int(body[4])
			raw := make([]byte, 16)
			copy(raw, body[5:min(len(body), 5+(bits+7)/8)])
			var addr netip.Addr
			if sub == 2 {
				addr = netip.AddrFrom4([4]byte(raw[:4]))
			} else {
				addr = netip.AddrFrom16([16]byte(raw))
			}
			keep = want[netip.PrefixFrom(addr, bits)]
		}
		if keep {
			w.Write(hdr)
			w.Write(body)
			n++
		}
	}
	return n
}

// writeVRPs writes the kept VRPs in rpki-client's JSON format, without
// "expires" so the sample does not warn about 2025 expiry dates.
func writeVRPs(path string, vrps []rov.VRP, keep map[uint32]bool) {
	type roa struct {
		ASN       uint32 `json:"asn"`
		Prefix    string `json:"prefix"`
		MaxLength uint8  `json:"maxLength"`
		TA        string `json:"ta"`
	}
	var roas []roa
	for i, v := range vrps {
		if keep[uint32(i)] {
			roas = append(roas, roa{v.ASN, v.Prefix.String(), v.MaxLen, v.TA})
		}
	}
	b, err := json.MarshalIndent(map[string]any{
		"metadata": map[string]any{"buildtime": "2025-07-20T10:01:43Z", "source": "subset of ../shared/data/vrp/vrps.rpki-client.20250720T100143Z.json.bz2 (rpki-client, buildtime 2025-07-20T10:01:43Z); expires removed", "vrps": len(roas)},
		"roas":     roas,
	}, "", "  ")
	check(err)
	check(os.WriteFile(path, append(b, '\n'), 0o644))
	log.Printf("%s: %d VRPs", path, len(roas))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
