package rov

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// ljFastCases are "roas" elements around the edges of what ljFastROA
// takes: each must load exactly as the general scanner and the
// encoding/json oracle load it, or fail with the general scanner's error.
var ljFastCases = []string{
	`{ "asn": 13335, "prefix": "1.0.0.0/24", "maxLength": 24, "ta": "apnic", "expires": 1753453058 }`,
	`{"prefix":"1.0.0.0/24","maxLength":24,"asn":13335}`,
	`{ "asn": "AS13335", "prefix": "2001:db8::/32", "maxLength": 48, "ta": "ripe" }`,
	`{ "asn": "as0", "prefix": "0.0.0.0/0", "maxLength": 0 }`,
	`{ "asn": 4294967295, "prefix": "255.255.255.255/32", "maxLength": 32, "ta": "" }`,
	"{\t\"asn\"\r\n:\n13335 ,\"prefix\" : \"10.0.0.0/8\" , \"maxLength\" : 8 }",
	// Each of these must leave the fast path (or be refused by it).
	`{ "asn": 4294967296, "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": 013335, "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": 13335.0, "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": 1e3, "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": -1, "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": "AS", "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": "AS1x", "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": null, "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": 1, "asn": 2, "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": 1, "prefix": "1.0.0.1/24", "maxLength": 24 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/33", "maxLength": 33 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/024", "maxLength": 24 }`,
	`{ "asn": 1, "prefix": "01.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": 1, "prefix": "256.0.0.0/8", "maxLength": 8 }`,
	`{ "asn": 1, "prefix": "1.0.0/24", "maxLength": 24 }`,
	`{ "asn": 1, "prefix": "1.0.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/", "maxLength": 24 }`,
	`{ "asn": 1, "prefix": "1.0.0.0", "maxLength": 24 }`,
	`{ "asn": 1, "prefix": "::ffff:1.0.0.0/120", "maxLength": 120 }`,
	`{ "asn": 1, "prefix": "2001:db8::1/32", "maxLength": 32 }`,
	`{ "asn": 1, "prefix": "2001:db8::%eth0/32", "maxLength": 32 }`,
	`{ "asn": 1, "prefix": "1.0.0.0\/24", "maxLength": 24 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 23 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 33 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 024 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24.5 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": "24" }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24" }`,
	`{ "asn": 1, "maxLength": 24 }`,
	`{ "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, "ta": "ap\u006eic" }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, "ta": "ap\"nic" }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, "ta": "apnïc" }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, "ta": null }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, "ta": 5 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, "ta": "a", "ta": "b" }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, "expires": -5 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, "expires": 1e9 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, "expires": 99999999999999999999 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, "expires": null }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, "source": [{"tal": "x"}] }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, "other": 1 }`,
	`{ "asnx": 1, "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`{ "ASN": 1, "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, }`,
	`{ "asn": 1 "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24 `,
	`{ "asn" 1, "prefix": "1.0.0.0/24", "maxLength": 24 }`,
	`[1]`,
	`"x"`,
	`{}`,
}

// TestLoadJSONFastPathAgrees loads every case alone, after a valid
// element (so a plain TA is remembered), and with the TA that a later
// element spells with an escape or a quote, through the whole-buffer
// scanner (fast path) and through 1-byte reads (general path only: no
// element is ever whole in the buffer), and holds both to the oracle.
func TestLoadJSONFastPathAgrees(t *testing.T) {
	opt := LoadOptions{Now: time.Unix(1753100000, 0)}
	first := `{ "asn": 7, "prefix": "9.0.0.0/8", "maxLength": 8, "ta": "apnic", "expires": 1 }`
	for i, c := range ljFastCases {
		for _, doc := range []string{
			`{"roas":[` + c + `]}`,
			`{"roas":[` + first + `,` + c + `]}`,
			`{"roas":[` + c + `,` + first + `]}`,
			"{\"metadata\":{\"vrps\":3},\"roas\":[\n" + first + ",\n" + c + "\n]}",
		} {
			data := []byte(doc)
			got, err := LoadExport(bytes.NewReader(data), "f", opt)
			slow, serr := LoadExport(iotest.OneByteReader(bytes.NewReader(data)), "f", opt)
			if (err == nil) != (serr == nil) || err != nil && err.Error() != serr.Error() || !reflect.DeepEqual(got, slow) {
				t.Fatalf("case %d %s:\nfast: %v %+v\nslow: %v %+v", i, doc, err, got, serr, slow)
			}
			want, oerr := loadOracleJSON(data, "f", opt)
			if (err == nil) != (oerr == nil) || err == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("case %d %s:\nscanner: %v %+v\noracle: %v %+v", i, doc, err, got, oerr, want)
			}
		}
	}
	// The TA shortcut: after "apnic", a name whose bytes start alike but
	// are not the same string.
	for _, ta := range []string{`"apnic\""`, `"apnicx"`, `"apni"`, `"apnic\u0000"`} {
		doc := `{"roas":[` + first + `,{ "asn": 1, "prefix": "1.0.0.0/24", "maxLength": 24, "ta": ` + ta + ` }]}`
		got, err := LoadExport(strings.NewReader(doc), "f", opt)
		want, oerr := loadOracleJSON([]byte(doc), "f", opt)
		if (err == nil) != (oerr == nil) || err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\nscanner: %v %+v\noracle: %v %+v", doc, err, got, oerr, want)
		}
	}
}

// TestLoadJSONFastPathTakes checks that the fast path, not only the
// general one, reads the plain elements real exports are made of (so the
// agreement test above tests something).
func TestLoadJSONFastPathTakes(t *testing.T) {
	for _, c := range []string{
		`{ "asn": 13335, "prefix": "1.0.0.0/24", "maxLength": 24, "ta": "apnic", "expires": 1753453058 }`,
		`{ "asn": "AS2018", "prefix": "2001:4200::/32", "maxLength": 64, "ta": "afrinic" }`,
		`{"prefix":"0.0.0.0/0","maxLength":32,"asn":0}`,
	} {
		l := newVRPLoader("f", LoadOptions{})
		// The fast path wants a few bytes past the last member name
		// buffered (a real export always has them).
		s := &ljScanner{buf: []byte(c + ",                "), name: "f"}
		s.end = len(s.buf)
		if _, _, _, ok := l.ljFastROA(s); !ok || s.buf[s.pos] != ',' {
			t.Errorf("fast path did not take %s (ok %v, pos %d)", c, ok, s.pos)
		}
	}
}

// TestLoaderOrderBookkeeping checks that what add records as VRPs arrive
// (order, duplicates, counts) gives finish the same answer as
// deduplicating and counting from scratch, on shuffled, sorted and
// duplicated inputs.
func TestLoaderOrderBookkeeping(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tas := []string{"", "apnic", "ripe", "arin"}
	for round := range 300 {
		n := rng.IntN(40)
		in := make([]VRP, n)
		for i := range in {
			p := fmt.Sprintf("10.%d.0.0/16", rng.IntN(4))
			switch rng.IntN(4) {
			case 0:
				p = fmt.Sprintf("2001:db8:%x::/48", rng.IntN(4))
			case 1:
				p = fmt.Sprintf("10.0.0.0/%d", 8+rng.IntN(9)) // same address, other lengths
			}
			pfx, _ := loadParsePrefix([]byte(p))
			in[i] = VRP{Prefix: pfx, MaxLen: uint8(pfx.Bits() + rng.IntN(2)), ASN: uint32(rng.IntN(3)), TA: tas[rng.IntN(len(tas))]}
		}
		switch round % 3 {
		case 1:
			slices.SortStableFunc(in, vrpCompare)
		case 2:
			in, _ = dedupVRPs(slices.Clone(in))
		}
		l := newVRPLoader("f", LoadOptions{})
		for _, v := range in {
			l.add(v, 0)
		}
		got, st := l.finish()
		want, dups := dedupVRPs(slices.Clone(in))
		wst := LoadStats{Read: len(in), Loaded: len(want), Duplicates: dups, ByTA: map[string]int{}}
		for _, v := range want {
			if v.Prefix.Addr().Is4() {
				wst.IPv4++
			} else {
				wst.IPv6++
			}
			wst.ByTA[v.TA]++
		}
		if len(got) == 0 && len(want) == 0 {
			got, want = nil, nil
		}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(st, wst) {
			t.Fatalf("round %d:\n got %v %+v\nwant %v %+v", round, got, st, want, wst)
		}
	}
}
