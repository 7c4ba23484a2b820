package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/reports"
)

// lookupQueries are the golden cases: each query kind on the sample.
var lookupQueries = map[string][]string{
	"prefix":        {"2001:4528::/32"},                  // as_set route with too_specific and valid more-specifics
	"prefix-origin": {"--origin", "13335", "1.1.1.0/24"}, // hypothetical: the rightful origin
	"address":       {"1.1.1.1", "5.172.202.10"},         // unreachable vs still routed via a cover/more-specific
	"asn":           {"AS18101"},                         // VRPs, risky/unused, suggestions
	"vrps-only":     {"1.0.0.0/24", "AS13335"},           // no route files
	"too-short":     {"2.17.48.0/20"},                    // origin holds a more-specific VRP
	"asn-hijack":    {"AS15169"},                         // routes another AS's VRP allows: no VRP suggested (issue 12)
}

// TestLookupGolden pins each query kind in every format on the sample.
func TestLookupGolden(t *testing.T) {
	for name, q := range lookupQueries {
		for _, format := range []string{"table", "json", "csv"} {
			t.Run(name+"."+format, func(t *testing.T) {
				args := append([]string{"lookup", "--vrps", sampleVRPs, "--format", format}, q...)
				if name != "vrps-only" {
					args = append(args, sample...)
				}
				out, _, err := runCLI(t, args...)
				if err != nil {
					t.Fatal(err)
				}
				checkGoldenIn(t, "lookup", name+"."+format, out)
			})
		}
	}
}

// TestLookupDefaultRoute pins issue 12's case: a valid 0.0.0.0/0 and an
// invalid 192.0.2.0/24. analyze calls the /24 unreachable unless
// --count-default; lookup 192.0.2.1 says the same (it said "reachable via
// 0.0.0.0/0" before), naming the default route it did not count.
func TestLookupDefaultRoute(t *testing.T) {
	dir := "testdata/lookup/default-route/"
	for _, tc := range []struct {
		name  string
		flags []string
	}{{"default-route", nil}, {"default-route.count-default", []string{"--count-default"}}} {
		for _, format := range []string{"table", "json"} {
			t.Run(tc.name+"."+format, func(t *testing.T) {
				args := append(append([]string{"lookup", "--vrps", dir + "vrps.json", "--format", format}, tc.flags...), "192.0.2.1", dir+"routes.txt")
				out, stderr, err := runCLI(t, args...)
				if err != nil || stderr != "" {
					t.Fatalf("err %v, stderr %q", err, stderr)
				}
				checkGoldenIn(t, "lookup", tc.name+"."+format, out)
				an, _, err := runCLI(t, append(append([]string{"analyze", "--vrps", dir + "vrps.json", "--format", "json"}, tc.flags...), dir+"routes.txt")...)
				if err != nil {
					t.Fatal(err)
				}
				var rep reports.Report
				if err := json.Unmarshal([]byte(an), &rep); err != nil {
					t.Fatal(err)
				}
				unreachable := rep.Summary.Impact.Unreachable == 1
				if format == "json" {
					var got struct{ Answers []reports.Answer }
					if err := json.Unmarshal([]byte(out), &got); err != nil {
						t.Fatal(err)
					}
					if r := got.Answers[0].Reachable; r == nil || *r == unreachable {
						t.Errorf("lookup reachable_after_rov %v, analyze unreachable %v", r, unreachable)
					}
				}
			})
		}
	}
}

// TestLookupMatchesAnalyze: for every invalid route analyze reports, lookup
// of its prefix reports the same row (the shared code path must not drift).
func TestLookupMatchesAnalyze(t *testing.T) {
	out, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--format", "json"}, sample...)...)
	if err != nil {
		t.Fatal(err)
	}
	var rep reports.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var queries []string
	for _, inv := range rep.Invalids {
		queries = append(queries, inv.Prefix.String())
	}
	args := []string{"lookup", "--vrps", sampleVRPs, "--format", "json"}
	lo, _, err := runCLIStdin(t, strings.Join(queries, "\n")+"\n", append(args, sample...)...)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Answers []reports.Answer }
	if err := json.Unmarshal([]byte(lo), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Answers) != len(rep.Invalids) {
		t.Fatalf("got %d answers for %d queries", len(got.Answers), len(rep.Invalids))
	}
	for i, inv := range rep.Invalids {
		found := false
		for _, r := range got.Answers[i].Routes {
			if originKeyOf(r.Origin) != originKeyOf(inv.Origin) {
				continue
			}
			found = true
			r.Explanation = ""
			if !reflect.DeepEqual(r, inv) {
				t.Errorf("%s: lookup says %+v, analyze says %+v", inv.Prefix, r, inv)
			}
		}
		if !found {
			t.Errorf("%s origin %v: lookup does not list the route", inv.Prefix, originKeyOf(inv.Origin))
		}
	}
}

func originKeyOf(o *uint32) int64 {
	if o == nil {
		return -1
	}
	return int64(*o)
}

func TestLookupBadQuery(t *testing.T) {
	for _, q := range []string{"192.0.2.1/24", "hello"} {
		_, _, err := runCLI(t, "lookup", "--vrps", sampleVRPs, q)
		if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "query") {
			t.Errorf("%q: got %v (exit %d), want a usage error about the query", q, err, exitCodeOf(err))
		}
	}
}
