package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestCLIBounds pins, for each case of issue 12 item 7, the exact line
// main prints on stderr ("rovimpact: " + the error) and the exit code.
// Before: --local-as AS64500 and lookup --origin AS12654 failed with a raw
// strconv.ParseUint error, --peer 99999 and --top -5 exited 0.
func TestCLIBounds(t *testing.T) {
	v4 := sample[0]
	peers20 := "AS701 157.130.10.233, AS7660 203.181.248.168, AS6539 216.18.31.102, AS22652 68.67.63.245, AS40191 216.221.157.162, " +
		"AS1239 144.228.241.130, AS2152 137.164.16.84, AS8492 85.114.0.217, AS286 134.222.87.1, AS293 198.129.33.85, " +
		"AS3561 206.24.210.80, AS2914 129.250.0.11, AS1668 66.185.128.1, AS5056 167.142.3.6, AS3130 147.28.7.2, " +
		"AS11686 96.4.0.55, AS7018 12.0.1.63, AS13030 213.144.128.203, AS1221 203.62.252.186, AS3741 168.209.255.23"
	empty := filepath.Join(t.TempDir(), "empty.txt")
	if err := os.WriteFile(empty, []byte("# a text route file without routes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string // the line main prints; "" for success
	}{
		{"local-as AS64500", []string{"analyze", "--vrps", sampleVRPs, "--local-as", "AS64500", v4}, exitOK, ""},
		{"local-as as64500", []string{"analyze", "--vrps", sampleVRPs, "--local-as", "as64500", v4}, exitOK, ""},
		{"local-as garbage", []string{"analyze", "--vrps", sampleVRPs, "--local-as", "ASX", v4}, exitUsage,
			`rovimpact: invalid argument "ASX" for "--local-as" flag: ASN "ASX" is not a number or AS<number>`},
		{"local-as too big", []string{"analyze", "--vrps", sampleVRPs, "--local-as", "4294967296", v4}, exitUsage,
			`rovimpact: invalid argument "4294967296" for "--local-as" flag: ASN "4294967296" is out of range (max 4294967295)`},
		{"lookup origin AS12654", []string{"lookup", "--vrps", sampleVRPs, "--origin", "AS12654", "1.1.1.0/24", v4}, exitOK, ""},
		{"lookup origin negative", []string{"lookup", "--vrps", sampleVRPs, "--origin", "-1", "1.1.1.0/24", v4}, exitUsage,
			`rovimpact: invalid argument "-1" for "--origin" flag: ASN "-1" is not a number or AS<number>`},
		{"lookup AS query garbage", []string{"lookup", "--vrps", sampleVRPs, "ASN13335", v4}, exitUsage,
			`rovimpact: query "ASN13335": want a prefix (192.0.2.0/24), an address (192.0.2.10), an AS (64500, AS64500) or an AS path ("AS64501 AS64500") (and no such route file)`},
		{"peer as7018", []string{"analyze", "--vrps", sampleVRPs, "--peer", "as7018", v4}, exitOK, ""},
		{"peer matches nothing", []string{"analyze", "--vrps", sampleVRPs, "--peer", "99999", v4}, exitUsage,
			"rovimpact: --peer 99999 matches no peer of the route files; peers seen (first 20 of 32): " + peers20},
		{"peer one of two matches nothing", []string{"analyze", "--vrps", sampleVRPs, "--peer", "AS7018", "--peer", "192.0.2.1", v4}, exitUsage,
			"rovimpact: --peer 192.0.2.1 matches no peer of the route files; peers seen (first 20 of 32): " + peers20},
		{"peer, file without routes", []string{"analyze", "--vrps", sampleVRPs, "--peer", "AS7018", empty}, exitUsage,
			"rovimpact: --peer AS7018 matches no peer of the route files; they hold no routes"},
		{"lookup peer matches nothing", []string{"lookup", "--vrps", sampleVRPs, "--peer", "AS99999", "1.1.1.0/24", v4}, exitUsage,
			"rovimpact: --peer AS99999 matches no peer of the route files; peers seen (first 20 of 32): " + peers20},
		{"analyze top -5", []string{"analyze", "--vrps", sampleVRPs, "--top", "-5", v4}, exitUsage,
			`rovimpact: invalid argument "-5" for "--top" flag: -5 is negative: want a row count, 0 for all`},
		{"analyze top x", []string{"analyze", "--vrps", sampleVRPs, "--top", "x", v4}, exitUsage,
			`rovimpact: invalid argument "x" for "--top" flag: "x" is not an integer`},
		{"lookup top -1", []string{"lookup", "--vrps", sampleVRPs, "--top", "-1", "AS13335", v4}, exitUsage,
			`rovimpact: invalid argument "-1" for "--top" flag: -1 is negative: want a row count, 0 for all`},
		{"lookup top 2", []string{"lookup", "--vrps", sampleVRPs, "--top", "2", "AS13335", v4}, exitOK, ""},
		{"history top -1", []string{"history", "--history", "x.db", "--top", "-1"}, exitUsage,
			`rovimpact: invalid argument "-1" for "--top" flag: -1 is negative: want a row count, 0 for all`},
		{"vrps top -1", []string{"vrps", "diff", "--top", "-1", sampleVRPs, sampleVRPs}, exitUsage,
			`rovimpact: invalid argument "-1" for "--top" flag: -1 is negative: want a row count, 0 for all`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, tc.args...)
			if got := exitCodeOf(err); got != tc.code {
				t.Fatalf("exit code %d (%v), want %d", got, err, tc.code)
			}
			got := ""
			if err != nil {
				got = "rovimpact: " + err.Error()
			}
			if got != tc.stderr {
				t.Errorf("stderr line:\ngot  %s\nwant %s", got, tc.stderr)
			}
		})
	}
}

// TestASNSpellings: every spelling of an AS number gives the same output,
// in flags and in lookup queries.
func TestASNSpellings(t *testing.T) {
	groups := [][][]string{
		{
			{"analyze", "--vrps", sampleVRPs, "--local-as", "64500", "--format", "json"},
			{"analyze", "--vrps", sampleVRPs, "--local-as", "AS64500", "--format", "json"},
			{"analyze", "--vrps", sampleVRPs, "--local-as", "as64500", "--format", "json"},
		},
		{
			{"analyze", "--vrps", sampleVRPs, "--peer", "7018", "--format", "json"},
			{"analyze", "--vrps", sampleVRPs, "--peer", "AS7018", "--format", "json"},
			{"analyze", "--vrps", sampleVRPs, "--peer", "as7018", "--format", "json"},
		},
		{
			{"lookup", "--vrps", sampleVRPs, "--origin", "12654", "1.1.1.0/24"},
			{"lookup", "--vrps", sampleVRPs, "--origin", "AS12654", "1.1.1.0/24"},
			{"lookup", "--vrps", sampleVRPs, "--origin", "as12654", "1.1.1.0/24"},
		},
		{
			{"lookup", "--vrps", sampleVRPs, "13335"},
			{"lookup", "--vrps", sampleVRPs, "AS13335"},
			{"lookup", "--vrps", sampleVRPs, "as13335"},
		},
	}
	for _, g := range groups {
		var first string
		for i, args := range g {
			out, _, err := runCLI(t, append(args, sample...)...)
			if err != nil {
				t.Fatalf("%v: %v", args, err)
			}
			// The report's policy states --peer as given.
			out = regexp.MustCompile(`"peer_filter": \[[^]]*\]`).ReplaceAllString(out, "")
			if i == 0 {
				first = out
				if out == "" {
					t.Fatalf("%v: no output", args)
				}
			} else if out != first {
				t.Errorf("%v differs from %v", args, g[0])
			}
		}
	}
}

// TestLookupTop pins lookup --top in the table output: each list cut to
// its top rows with a line saying how many were left out.
func TestLookupTop(t *testing.T) {
	out, _, err := runCLI(t, append([]string{"lookup", "--vrps", sampleVRPs, "--top", "2", "AS18101"}, sample...)...)
	if err != nil {
		t.Fatal(err)
	}
	checkGoldenIn(t, "lookup", "asn-top2.table", out)
}
