package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// aspaChainVRPs writes the topology of rov's TestASPADraftExamples
// (rov/aspa_verify_test.go) as an rpki-client export without ROAs:
// origin 64496 -> provider 64497 -> upper 64498 (c2p), upper and peer
// 64499 lateral, peer 64499 -> customer 64500 (p2c); leaker 64501 with an
// ASPA naming 64504 only.
func aspaChainVRPs(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vrps.json")
	const export = `{"roas":[],"aspas":[
{"customer_asid":64496,"providers":[64497]},{"customer_asid":64497,"providers":[64498]},
{"customer_asid":64498,"providers":[64504]},{"customer_asid":64499,"providers":[64504]},
{"customer_asid":64500,"providers":[64499]},{"customer_asid":64501,"providers":[64504]}]}`
	if err := os.WriteFile(p, []byte(export), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type aspaPathHopJSON struct {
	Customer, Provider uint32
	Providers          []uint32 `json:"aspa_providers"`
}

type aspaPathJSON struct {
	ASPA       string `json:"aspa"`
	Reason     string
	Why        string
	Procedure  string
	Neighbor   uint32   `json:"neighbor_as"`
	Compressed []uint32 `json:"compressed"`
	Hops       []struct {
		Index    int32
		Up, Down string
		UpASPA   *[]uint32 `json:"up_aspa"`
		Ramp     string
	}
	Up   *aspaPathHopJSON `json:"up_hop"`
	Down *aspaPathHopJSON `json:"down_hop"`
}

// TestASPAPathDraftRows runs rows of the draft's cases (the same clauses
// and paths as rov's TestASPADraftExamples) through `aspa --path` and
// checks the verdict, reason and failing hops it prints.
func TestASPAPathDraftRows(t *testing.T) {
	vrps := aspaChainVRPs(t)
	for _, c := range []struct {
		name     string
		args     []string
		state    string
		reason   string
		up, down string // "customer>provider"
		hops     int
	}{
		{"§5.4 step 2: first AS is not the customer neighbour", []string{"--path", "64497 64496", "--neighbor", "AS64501", "--peer-role", "customer"},
			"invalid", "first_as", "", "", 1},
		{"§5.4 step 3: AS_SET at the origin", []string{"--path", "64498 64497 {64496,64504}"}, "invalid", "as_set", "", "", 0},
		{"§5.4 step 6: an up-ramp all the way is Valid from a customer", []string{"--path", "AS64498 AS64497 AS64496", "--peer-role", "customer"},
			"valid", "", "", "", 2},
		{"§5.4 step 4: a Not Provider+ hop caps max_up_ramp < N", []string{"--path", "64499 64498 64497 64496", "--peer-role", "64499=customer"},
			"invalid", "not_provider", "64498>64499", "", 3},
		{"§5.4 step 5: an unattested hop above an attested up-ramp: Unknown", []string{"--path", "64502 64504 64498 64497 64496", "--peer-role", "customer"},
			"unknown", "", "", "", 4},
		{"§5.1 Figure 2: up-ramp, one peer hop, down-ramp: Valid downstream", []string{"--path", "64500 64499 64498 64497 64496", "--peer-role", "provider"},
			"valid", "", "", "", 4},
		{"§5.4: the same valley-free path is Invalid upstream", []string{"--path", "64500 64499 64498 64497 64496", "--peer-role", "customer"},
			"invalid", "not_provider", "64498>64499", "", 4},
		{"§5.1: apexes two hops apart (a valley) is Invalid downstream", []string{"--path", "64500 64499 64501 64498 64497 64496", "--peer-role", "provider"},
			"invalid", "not_provider", "64498>64501", "64499>64501", 5},
		{"§6.2: AS_CONFED_SEQUENCE is not verified", []string{"--path", "(65001) 64497 64496", "--neighbor", "64497", "--peer-role", "customer"},
			"unverified", "confed", "", "", 0},
		{"§5.4 step 2 exception + RFC 7947: transparent RS", []string{"--path", "64497 64496", "--neighbor", "64505", "--peer-role", "64505=rs"},
			"valid", "", "", "", 1},
		{"§5.1: prepends are collapsed", []string{"--path", "64498 64498 64497 64497 64497 64496 64496", "--peer-role", "customer"},
			"valid", "", "", "", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"aspa", "--vrps", vrps, "--format", "json"}, c.args...)
			out, stderr, err := runCLI(t, args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			var got aspaPathJSON
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if got.ASPA != c.state || got.Reason != c.reason || len(got.Hops) != c.hops || got.Why == "" {
				t.Errorf("aspa %q reason %q, %d hops, why %q; want %q %q, %d hops\n%s", got.ASPA, got.Reason, len(got.Hops), got.Why, c.state, c.reason, c.hops, out)
			}
			hop := func(h *aspaPathHopJSON) string {
				if h == nil {
					return ""
				}
				return strings.Join([]string{itoa(h.Customer), itoa(h.Provider)}, ">")
			}
			if hop(got.Up) != c.up || hop(got.Down) != c.down {
				t.Errorf("failing hops up %q down %q, want %q %q", hop(got.Up), hop(got.Down), c.up, c.down)
			}
			if c.up != "" && !strings.Contains(got.Why, "AS"+strings.Split(c.up, ">")[0]+"'s ASPA") {
				t.Errorf("why %q does not name the deciding ASPA of %s", got.Why, c.up)
			}
			// The table format says the same.
			out, _, err = runCLI(t, append([]string{"aspa", "--vrps", vrps}, c.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "ASPA: "+strings.ToUpper(c.state)+"\n") {
				t.Errorf("table lacks the verdict %s:\n%s", c.state, out)
			}
			for i, l := range strings.Split(out, "\n") {
				if n := utf8.RuneCountInString(l); n > 120 {
					t.Errorf("line %d is %d columns: %s", i+1, n, l)
				}
			}
		})
	}
}

func itoa(n uint32) string { b, _ := json.Marshal(n); return string(b) }

// TestASPAPathHops pins the hop lines of the Figure 2 path from a
// provider: each pair's attestation both ways, the ASPA that gave it, and
// the ramp it lies on.
func TestASPAPathHops(t *testing.T) {
	vrps := aspaChainVRPs(t)
	out, _, err := runCLI(t, "aspa", "--vrps", vrps, "--format", "json", "--path", "64500 64499 64499 64498 64497 64496", "--peer-role", "provider")
	if err != nil {
		t.Fatal(err)
	}
	var got aspaPathJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := []struct{ up, down, ramp string }{
		{"provider_plus", "not_provider_plus", "up"},    // 64496 lists 64497; 64497 does not list 64496
		{"provider_plus", "not_provider_plus", "up"},    // 64497 lists 64498
		{"not_provider_plus", "not_provider_plus", "-"}, // the lateral peering 64498 - 64499
		{"not_provider_plus", "provider_plus", "down"},  // 64500 lists 64499
	}
	if len(got.Hops) != len(want) || len(got.Compressed) != 5 || got.Procedure != "downstream" {
		t.Fatalf("hops %+v, compressed %v, procedure %q\n%s", got.Hops, got.Compressed, got.Procedure, out)
	}
	for i, w := range want {
		h := got.Hops[i]
		if h.Up != w.up || h.Down != w.down || h.Ramp != w.ramp || h.Index != int32(i+1) || h.UpASPA == nil {
			t.Errorf("hop %d = %+v, want %+v", i+1, h, w)
		}
	}
	// No ASPA for the upper AS: null, not an empty list.
	out, _, err = runCLI(t, "aspa", "--vrps", vrps, "--format", "json", "--path", "64510 64496", "--peer-role", "peer")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"down_aspa": null`) || !strings.Contains(out, `"aspa": "invalid"`) {
		t.Errorf("no-ASPA hop:\n%s", out)
	}
}

func TestASPAPathErrors(t *testing.T) {
	vrps := aspaChainVRPs(t)
	routes := filepath.Join(t.TempDir(), "r.txt")
	if err := os.WriteFile(routes, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--path", "64497 64496", routes}, "give no ROUTES"},
		{[]string{"--path", "64497 {64496"}, "unterminated"},
		{[]string{"--path", "{64496}"}, "give --neighbor"},
		{[]string{"--path", "64497", "--peer-role", "peer", "--peer-role", "customer"}, "bare roles"},
		{[]string{"--path", "64497", "--peer-role", "upstream"}, "unknown peer role"},
		{[]string{"--path", "64497", "--neighbor", "x"}, "--neighbor"},
		{[]string{"--path", "64497", "--format", "csv"}, "format"},
		{[]string{"--neighbor", "64497", routes}, "--neighbor goes with --path"},
		{nil, "needs ROUTES"},
	} {
		_, _, err := runCLI(t, append([]string{"aspa", "--vrps", vrps}, c.args...)...)
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: got %v (exit %d), want exit 2 mentioning %q", c.args, err, exitCode(err), c.msg)
		}
	}
}
