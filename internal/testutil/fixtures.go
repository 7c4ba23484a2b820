package testutil

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/rov"
)

// ParsePath parses an AS path in gobgp's syntax ("64500 {64501,64502}")
// into segments, after the ASNs prepend (the speaker's own).
func ParsePath(t testing.TB, s string, prepend ...uint32) []rov.Segment {
	t.Helper()
	segs := []rov.Segment{{Type: rov.ASSequence, ASNs: append([]uint32(nil), prepend...)}}

	for _, tok := range strings.Fields(s) {
		if strings.HasPrefix(tok, "{") {
			var set []uint32
			for _, a := range strings.Split(strings.Trim(tok, "{}"), ",") {
				n, err := strconv.ParseUint(a, 10, 32)
				if err != nil {
					t.Fatal(err)
				}
				set = append(set, uint32(n))
			}
			segs = append(segs, rov.Segment{Type: rov.ASSet, ASNs: set})
			continue
		}
		n, err := strconv.ParseUint(tok, 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		last := &segs[len(segs)-1]
		if last.Type != rov.ASSequence {
			segs = append(segs, rov.Segment{Type: rov.ASSequence})
			last = &segs[len(segs)-1]
		}
		last.ASNs = append(last.ASNs, uint32(n))
	}
	if len(segs[0].ASNs) == 0 {
		segs = segs[1:]
	}
	return segs
}

// WriteSLURM writes an RFC 8416 file with prefix filters and assertions.
func WriteSLURM(t testing.TB, path string, filters, asserts []rov.VRP) {
	t.Helper()
	type filter struct {
		Prefix string `json:"prefix"`
		ASN    uint32 `json:"asn"`
	}
	type assertion struct {
		Prefix string `json:"prefix"`
		ASN    uint32 `json:"asn"`
		MaxLen uint8  `json:"maxPrefixLength"`
	}
	doc := map[string]any{"slurmVersion": 1}
	var fs []filter
	for _, v := range filters {
		fs = append(fs, filter{v.Prefix.String(), v.ASN})
	}
	var as []assertion
	for _, v := range asserts {
		as = append(as, assertion{v.Prefix.String(), v.ASN, v.MaxLen})
	}
	doc["validationOutputFilters"] = map[string]any{"prefixFilters": fs, "bgpsecFilters": []any{}}
	doc["locallyAddedAssertions"] = map[string]any{"prefixAssertions": as, "bgpsecAssertions": []any{}}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
