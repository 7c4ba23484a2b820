// Command gen rebuilds archive/testdata/archive, a miniature collector
// archive for the archive package's tests, from the real data in
// ../shared/data: windows of consecutive raw MRT records (byte for byte)
// from the RouteViews route-views2 RIB (TABLE_DUMP_V2, with its
// PEER_INDEX_TABLE) and the RIS rrc05 bview (TABLE_DUMP), renamed as RIBs
// of 2025-07-20 so that they pair with the two real rpki-client exports of
// that day; and those exports cut down to the VRPs that overlap a route of
// the windows (covering or inside it: everything that decides a route's
// state, class and impact), with their real build times. Overlapping
// windows make routes persist across units. Run from the repository root:
//
//	go run ./archive/testdata/gen
package main

import (
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/rov"
)

func main() {
	shared := flag.String("shared", "../shared/data", "shared data directory")
	out := flag.String("out", "archive/testdata/archive", "output directory")
	flag.Parse()
	check(os.RemoveAll(*out))

	rv := readRecords(*shared + "/mrt/rib.20140523.0600.route-views2.first1MB-truncated.bz2")
	ris := readRecords(*shared + "/mrt/bview.20020722.2337.ris-rrc05.table_dump_v1.gz")
	var prefixes []netip.Prefix
	// route-views2: the peer index, then 150 prefixes (one record each),
	// each window starting 100 records after the last.
	for k, hhmm := range []string{"0940", "1005", "1020", "1040"} {
		recs := append([][]byte{rv[0]}, rv[1+k*100:1+k*100+150]...)
		name := filepath.Join(*out, "route-views2/bgpdata/2025.07/RIBS/rib.20250720."+hhmm+".gz")
		write(name, recs, -1)
		prefixes = append(prefixes, routesOf(name)...)
	}
	// A RIB cut inside its last record: the unit must fail, not be
	// counted whole.
	write(filepath.Join(*out, "route-views2/bgpdata/2025.07/RIBS/rib.20250720.1100.gz"), append([][]byte{rv[0]}, rv[1:40]...), 25)
	// rrc05: TABLE_DUMP has one (prefix, peer) entry per record.
	for k, hhmm := range []string{"0945", "1010", "1025", "1045"} {
		name := filepath.Join(*out, "ris/rrc05/2025.07/bview.20250720."+hhmm+".gz")
		write(name, ris[k*1500:k*1500+2500], -1)
		prefixes = append(prefixes, routesOf(name)...)
	}
	// Older than every VRP set: planned as skipped.
	write(filepath.Join(*out, "ris/rrc05/2025.07/bview.20250720.0900.gz"), ris[:100], -1)

	for _, v := range []struct{ in, out string }{
		{"vrps.rpki-client.20250720T093133Z.json.bz2", "vrps/vrps.rpki-client.20250720T093133Z.json.gz"},
		{"vrps.rpki-client.20250720T100143Z.json.bz2", "vrps/vrps.rpki-client.20250720T100143Z.json.gz"},
	} {
		f, err := compressed.Open(*shared + "/vrp/" + v.in)
		check(err)
		vrps, st, err := rov.LoadVRPs(f, v.in, rov.LoadOptions{})
		check(err)
		f.Close()
		var keep []rov.VRP
		for _, x := range vrps {
			for _, p := range prefixes {
				// Not the default route: everything is inside it (it
				// is validated against the reduced set only).
				if p.Bits() >= 8 && x.Prefix.Overlaps(p) {
					keep = append(keep, x)
					break
				}
			}
		}
		writeVRPs(filepath.Join(*out, v.out), keep, st.BuildTime)
		fmt.Printf("%s: %d of %d VRPs\n", v.out, len(keep), len(vrps))
	}
}

// readRecords splits a (decompressed) MRT file into raw records, stopping
// at a truncated last record.
func readRecords(name string) [][]byte {
	f, err := compressed.Open(name)
	check(err)
	defer f.Close()
	var out [][]byte
	for len(out) < 20000 {
		var hdr [12]byte
		if _, err := io.ReadFull(f, hdr[:]); err != nil {
			break
		}
		rec := make([]byte, 12+binary.BigEndian.Uint32(hdr[8:]))
		copy(rec, hdr[:])
		if _, err := io.ReadFull(f, rec[12:]); err != nil {
			break
		}
		out = append(out, rec)
	}
	return out
}

// write gzips records; cut >= 0 keeps only that many bytes of the last.
func write(name string, recs [][]byte, cut int) {
	check(os.MkdirAll(filepath.Dir(name), 0o755))
	f, err := os.Create(name)
	check(err)
	zw := gzip.NewWriter(f)
	zw.ModTime = time.Unix(0, 0) // reproducible bytes
	for i, r := range recs {
		if cut >= 0 && i == len(recs)-1 {
			r = r[:cut]
		}
		_, err := zw.Write(r)
		check(err)
	}
	check(zw.Close())
	check(f.Close())
}

func routesOf(name string) []netip.Prefix {
	f, err := compressed.Open(name)
	check(err)
	defer f.Close()
	src, err := mrt.NewSource(f, name)
	check(err)
	seen := map[netip.Prefix]bool{}
	var out []netip.Prefix
	for src.Next() {
		if p := src.Route().Prefix; !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	check(src.Err())
	return out
}

func writeVRPs(name string, vrps []rov.VRP, built time.Time) {
	type roa struct {
		ASN       uint32 `json:"asn"`
		Prefix    string `json:"prefix"`
		MaxLength uint8  `json:"maxLength"`
		TA        string `json:"ta"`
	}
	doc := struct {
		Metadata struct {
			BuildTime string `json:"buildtime"`
		} `json:"metadata"`
		ROAs []roa `json:"roas"`
	}{}
	doc.Metadata.BuildTime = built.UTC().Format(time.RFC3339)
	doc.ROAs = []roa{}
	for _, v := range vrps {
		doc.ROAs = append(doc.ROAs, roa{v.ASN, v.Prefix.String(), v.MaxLen, v.TA})
	}
	check(os.MkdirAll(filepath.Dir(name), 0o755))
	f, err := os.Create(name)
	check(err)
	zw := gzip.NewWriter(f)
	zw.ModTime = time.Unix(0, 0)
	enc := json.NewEncoder(zw)
	check(enc.Encode(doc))
	check(zw.Close())
	check(f.Close())
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
