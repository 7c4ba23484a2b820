package rov

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func slLoadFile(t *testing.T, name string) *SLURM {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "slurm", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := LoadSLURM(f, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// slDoc builds a SLURM document from the four arrays' contents.
func slDoc(prefixFilters, bgpsecFilters, prefixAssertions, bgpsecAssertions string) string {
	return `{"slurmVersion":1,"validationOutputFilters":{"prefixFilters":[` + prefixFilters +
		`],"bgpsecFilters":[` + bgpsecFilters + `]},"locallyAddedAssertions":{"prefixAssertions":[` +
		prefixAssertions + `],"bgpsecAssertions":[` + bgpsecAssertions + `]}}`
}

func slLoad(t *testing.T, name, doc string) *SLURM {
	t.Helper()
	s, err := LoadSLURM(strings.NewReader(doc), name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLoadSLURMExample loads the example of RFC 8416 §3.5 verbatim.
func TestLoadSLURMExample(t *testing.T) {
	s := slLoadFile(t, "rfc8416-example.json")
	f := "rfc8416-example.json"
	wantPF := []SLURMPrefixFilter{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Comment: "All VRPs encompassed by prefix", File: f},
		{ASN: 64496, HasASN: true, Comment: "All VRPs matching ASN", File: f},
		{Prefix: netip.MustParsePrefix("198.51.100.0/24"), ASN: 64497, HasASN: true, Comment: "All VRPs encompassed by prefix, matching ASN", File: f},
	}
	wantPA := []SLURMPrefixAssertion{
		{Prefix: netip.MustParsePrefix("198.51.100.0/24"), MaxLen: 24, ASN: 64496, Comment: "My other important route", File: f},
		{Prefix: netip.MustParsePrefix("2001:db8::/32"), MaxLen: 48, ASN: 64496, Comment: "My other important de-aggregated routes", File: f},
	}
	if !reflect.DeepEqual(s.PrefixFilters, wantPF) {
		t.Errorf("prefix filters:\n got %+v\nwant %+v", s.PrefixFilters, wantPF)
	}
	if !reflect.DeepEqual(s.PrefixAssertions, wantPA) {
		t.Errorf("prefix assertions:\n got %+v\nwant %+v", s.PrefixAssertions, wantPA)
	}
	if len(s.BGPsecFilters) != 3 || len(s.BGPsecAssertions) != 1 || s.BGPsecFilters[1].SKI != "Zm9v" || s.BGPsecFilters[1].HasASN {
		t.Errorf("bgpsec: %+v %+v", s.BGPsecFilters, s.BGPsecAssertions)
	}
	e := slLoadFile(t, "rfc8416-empty.json")
	if len(e.PrefixFilters)+len(e.PrefixAssertions)+len(e.BGPsecFilters)+len(e.BGPsecAssertions) != 0 || !reflect.DeepEqual(e.Files, []string{"rfc8416-empty.json"}) {
		t.Errorf("empty SLURM: %+v", e)
	}
}

func TestLoadSLURMRules(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string // "" means it must load
	}{
		{"§3.2 version 1", slDoc("", "", "", ""), ""},
		{"§3.2 version 2 rejected", strings.Replace(slDoc("", "", "", ""), `"slurmVersion":1`, `"slurmVersion":2`, 1), "slurmVersion 2 is not supported"},
		{"§3.2 version as string", strings.Replace(slDoc("", "", "", ""), `"slurmVersion":1`, `"slurmVersion":"1"`, 1), `slurmVersion "1" is not supported`},
		{"§3.2 missing version", `{"validationOutputFilters":{},"locallyAddedAssertions":{}}`, `missing required member "slurmVersion"`},
		{"§3.2 missing assertions", `{"slurmVersion":1,"validationOutputFilters":{}}`, `missing required member "locallyAddedAssertions"`},
		{"omitted arrays mean empty", `{"slurmVersion":1,"validationOutputFilters":{},"locallyAddedAssertions":{}}`, ""},
		{"unknown top-level member", strings.Replace(slDoc("", "", "", ""), `{"slurmVersion":1`, `{"slurmVersion":1,"x":1`, 1), `unknown member "x"`},
		{"misspelt array", `{"slurmVersion":1,"validationOutputFilters":{"prefixFilter":[]},"locallyAddedAssertions":{}}`, `validationOutputFilters: unknown member "prefixFilter"`},
		{"member names are case-sensitive", slDoc(`{"Prefix":"10.0.0.0/8"}`, "", "", ""), `prefixFilters[0]: unknown member "Prefix"`},
		{"not JSON", `{"slurmVersion":1,`, "not valid JSON"},
		{"not an object", `[]`, "want a JSON object"},
		// §3.3.1 prefix filters.
		{"§3.3.1 prefix only", slDoc(`{"prefix":"10.0.0.0/8"}`, "", "", ""), ""},
		{"§3.3.1 asn only", slDoc(`{"asn":0}`, "", "", ""), ""},
		{"§3.3.1 neither prefix nor asn", slDoc(`{"comment":"oops"}`, "", "", ""), "prefixFilters[0]: prefix filter has neither prefix nor asn (RFC 8416 §3.3.1)"},
		{"§3.3.1 invalid prefix is an error, not match-all", slDoc(`{"prefix":"10.0.0/8"}`, "", "", ""), `prefixFilters[0]: prefix "10.0.0/8"`},
		{"§3.3.1 empty prefix", slDoc(`{"prefix":""}`, "", "", ""), `prefix ""`},
		{"§3.3.1 host bits", slDoc(`{"prefix":"10.0.0.1/8"}`, "", "", ""), `prefix "10.0.0.1/8" has host bits set`},
		{"§3.3.1 asn string", slDoc(`{"asn":"AS1"}`, "", "", ""), `asn "AS1" is not a number`},
		{"§3.3.1 asn too big", slDoc(`{"asn":4294967296}`, "", "", ""), `ASN 4294967296 is out of range`},
		{"§3.3.1 asn negative", slDoc(`{"asn":-1}`, "", "", ""), `ASN -1 is negative`},
		{"§3.3.1 comment not a string", slDoc(`{"asn":1,"comment":5}`, "", "", ""), `comment is not a string`},
		{"filter not an object", slDoc(`"10.0.0.0/8"`, "", "", ""), `prefixFilters[0]: want a JSON object`},
		// §3.3.2 BGPsec filters.
		{"§3.3.2 SKI only", slDoc("", `{"SKI":"Zm9v"}`, "", ""), ""},
		{"§3.3.2 neither asn nor SKI", slDoc("", `{"comment":"x"}`, "", ""), "bgpsecFilters[0]: BGPsec filter has neither asn nor SKI (RFC 8416 §3.3.2)"},
		// §3.4.1 prefix assertions.
		{"§3.4.1 minimal", slDoc("", "", `{"asn":1,"prefix":"10.0.0.0/8"}`, ""), ""},
		{"§3.4.1 missing asn", slDoc("", "", `{"prefix":"10.0.0.0/8"}`, ""), "prefixAssertions[0]: prefix assertion without asn"},
		{"§3.4.1 missing prefix", slDoc("", "", `{"asn":1}`, ""), "prefixAssertions[0]: prefix assertion without prefix"},
		{"§3.4.1 host bits", slDoc("", "", `{"asn":1,"prefix":"10.0.0.1/8"}`, ""), "has host bits set"},
		{"§3.4.1 maxPrefixLength = length", slDoc("", "", `{"asn":1,"prefix":"10.0.0.0/8","maxPrefixLength":8}`, ""), ""},
		{"§3.4.1 maxPrefixLength 32", slDoc("", "", `{"asn":1,"prefix":"0.0.0.0/0","maxPrefixLength":32}`, ""), ""},
		{"§3.4.1 maxPrefixLength 128", slDoc("", "", `{"asn":1,"prefix":"::/0","maxPrefixLength":128}`, ""), ""},
		{"§3.4.1 maxPrefixLength below length", slDoc("", "", `{"asn":1,"prefix":"10.0.0.0/8","maxPrefixLength":7}`, ""), "maxPrefixLength: maxLength 7 is below the prefix length"},
		{"§3.4.1 maxPrefixLength 33", slDoc("", "", `{"asn":1,"prefix":"10.0.0.0/8","maxPrefixLength":33}`, ""), "maxLength 33 exceeds 32"},
		{"§3.4.1 maxPrefixLength 129", slDoc("", "", `{"asn":1,"prefix":"2001:db8::/32","maxPrefixLength":129}`, ""), "maxLength 129 exceeds 128"},
		{"§3.4.1 maxPrefixLength fraction", slDoc("", "", `{"asn":1,"prefix":"10.0.0.0/8","maxPrefixLength":8.5}`, ""), `maxPrefixLength "8.5" is not an integer`},
		{"§3.4.1 maxPrefixLength string", slDoc("", "", `{"asn":1,"prefix":"10.0.0.0/8","maxPrefixLength":"8"}`, ""), `maxPrefixLength "8" is not a number`},
		// §3.4.2 BGPsec assertions.
		{"§3.4.2 complete", slDoc("", "", "", `{"asn":1,"SKI":"Zm9v","routerPublicKey":"YmFy"}`), ""},
		{"§3.4.2 missing key", slDoc("", "", "", `{"asn":1,"SKI":"Zm9v"}`), "bgpsecAssertions[0]: BGPsec assertion without routerPublicKey"},
		{"§3.4.2 missing SKI", slDoc("", "", "", `{"asn":1,"routerPublicKey":"YmFy"}`), "BGPsec assertion without SKI"},
		{"§3.4.2 missing asn", slDoc("", "", "", `{"SKI":"Zm9v","routerPublicKey":"YmFy"}`), "BGPsec assertion without asn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadSLURM(strings.NewReader(tt.doc), "local.json")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("error = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "local.json: ") {
				t.Fatalf("error = %v, want \"local.json: ...%s...\"", err, tt.wantErr)
			}
		})
	}
}

func TestSLURMApply(t *testing.T) {
	in := []VRP{
		lv("192.0.2.0/24", 24, 64510, "ripe"),     // filtered by prefix (equal)
		lv("192.0.2.128/25", 25, 64510, "ripe"),   // filtered by prefix (more specific)
		lv("192.0.0.0/16", 24, 64510, "ripe"),     // covers the filter prefix: kept
		lv("10.0.0.0/8", 8, 64496, "arin"),        // filtered by asn-only filter
		lv("2001:db8::/32", 32, 64496, "arin"),    // asn-only filter applies to both families
		lv("198.51.100.0/24", 24, 64497, "apnic"), // prefix+asn filter: both match
		lv("198.51.100.0/24", 24, 64499, "apnic"), // prefix matches, asn not: kept
		lv("203.0.113.0/24", 24, 64497, "apnic"),  // asn matches, prefix not: kept
		lv("::ffff:192.0.2.0/120", 120, 1, "x"),   // IPv6 space: IPv4 filter does not apply
	}
	s := slLoadFile(t, "rfc8416-example.json")
	got, st := s.Apply(in)
	want := MergeVRPs([]VRP{
		lv("192.0.0.0/16", 24, 64510, "ripe"),
		lv("198.51.100.0/24", 24, 64499, "apnic"),
		lv("203.0.113.0/24", 24, 64497, "apnic"),
		lv("::ffff:192.0.2.0/120", 120, 1, "x"),
		// §4: assertions are added after filtering, so the asserted
		// 198.51.100.0/24 AS64496 survives the AS64496 filter.
		lv("198.51.100.0/24", 24, 64496, SLURMTA),
		lv("2001:db8::/32", 48, 64496, SLURMTA),
	})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Apply:\n got %v\nwant %v", got, want)
	}
	if wantSt := (SLURMStats{Removed: 5, Added: 2, BGPsecIgnored: 4}); st != wantSt {
		t.Errorf("stats = %+v, want %+v", st, wantSt)
	}
	if in[0].String() != "192.0.2.0/24 AS64510" || len(in) != 9 {
		t.Errorf("input modified: %v", in)
	}

	// An assertion equal to an existing VRP adds nothing and keeps the
	// existing TA.
	s2 := slLoad(t, "a.json", slDoc("", "", `{"asn":1,"prefix":"10.0.0.0/8"},{"asn":1,"prefix":"10.0.0.0/8"}`, ""))
	got, st = s2.Apply([]VRP{lv("10.0.0.0/8", 8, 1, "ripe")})
	if !reflect.DeepEqual(got, []VRP{lv("10.0.0.0/8", 8, 1, "ripe")}) || st != (SLURMStats{}) {
		t.Errorf("duplicate assertion: got %v %+v", got, st)
	}
}

func TestMergeSLURM(t *testing.T) {
	pf := func(p string) string { return `{"prefix":"` + p + `"}` }
	pa := func(p string) string { return `{"asn":1,"prefix":"` + p + `"}` }
	tests := []struct {
		name    string
		a, b    string
		wantErr string
	}{
		{"disjoint prefixes", slDoc(pf("10.0.0.0/8"), "", pa("192.0.2.0/24"), ""), slDoc(pf("11.0.0.0/8"), "", pa("2001:db8::/32"), ""), ""},
		{"asn-only filters never overlap", slDoc(`{"asn":1}`, "", "", ""), slDoc(`{"asn":1}`, "", "", ""), ""},
		{"§4.2 same filter prefix", slDoc(pf("10.0.0.0/8"), "", "", ""), slDoc(pf("10.0.0.0/8"), "", "", ""), "prefix filter 10.0.0.0/8 in a.json and prefix filter 10.0.0.0/8 in b.json"},
		{"§4.2 filter covers assertion", slDoc(pf("10.0.0.0/8"), "", "", ""), slDoc("", "", pa("10.1.0.0/16"), ""), "prefix filter 10.0.0.0/8 in a.json and prefix assertion 10.1.0.0/16 in b.json"},
		{"§4.2 assertion covered by assertion", slDoc("", "", pa("10.1.0.0/16"), ""), slDoc("", "", pa("10.0.0.0/8"), ""), "prefix assertion 10.1.0.0/16 in a.json and prefix assertion 10.0.0.0/8 in b.json"},
		{"§4.2 BGPsec same ASN", slDoc("", `{"asn":64496}`, "", ""), slDoc("", "", "", `{"asn":64496,"SKI":"x","routerPublicKey":"y"}`), "BGPsec filter for AS64496 in a.json and BGPsec assertion for AS64496 in b.json"},
		{"§4.2 BGPsec same SKI", slDoc("", `{"SKI":"Zm9v"}`, "", ""), slDoc("", `{"SKI":"Zm9v"}`, "", ""), `SKI "Zm9v" in a.json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := slLoad(t, "a.json", tt.a), slLoad(t, "b.json", tt.b)
			m, err := MergeSLURM(a, nil, b)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrSLURMOverlap) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want ErrSLURMOverlap containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.Files, []string{"a.json", "b.json"}) ||
				len(m.PrefixFilters) != len(a.PrefixFilters)+len(b.PrefixFilters) ||
				len(m.PrefixAssertions) != len(a.PrefixAssertions)+len(b.PrefixAssertions) {
				t.Errorf("merged = %+v", m)
			}
		})
	}
	// Overlap inside one file is the operator's own business (§4.2 is
	// about combining files).
	one := slLoad(t, "a.json", slDoc(pf("10.0.0.0/8"), "", pa("10.1.0.0/16"), ""))
	if _, err := MergeSLURM(one); err != nil {
		t.Errorf("single file with internal overlap: %v", err)
	}
	empty, err := MergeSLURM()
	if err != nil || len(empty.Files) != 0 {
		t.Errorf("MergeSLURM() = %+v, %v", empty, err)
	}
}
