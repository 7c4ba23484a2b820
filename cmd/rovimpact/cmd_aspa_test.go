package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// aspaFixture writes a VRP export with ASPAs (rpki-client layout) and a
// bgpdump -m route file, and returns their paths.
//
//	AS64496 (origin) lists AS64497 as its only provider; AS64505 has an AS0
//	ASPA. Peer AS64510 carries valid-looking paths, peer AS64511 leaks,
//	peer AS64512 is a provider (--peer-role) sending a valley-free path.
func aspaFixture(t *testing.T) (vrps, routes string) {
	t.Helper()
	dir := t.TempDir()
	vrps = filepath.Join(dir, "vrps.json")
	const export = `{"metadata":{"buildtime":"2026-12-01T00:00:00Z"},
"roas":[{"asn":64999,"prefix":"203.0.113.0/24","maxLength":24,"ta":"test"}],
"aspas":[{"customer_asid":64496,"providers":[64497]},{"customer_asid":64505,"providers":[0]},
{"customer_asid":64512,"providers":[64497]}]}`
	if err := os.WriteFile(vrps, []byte(export), 0o644); err != nil {
		t.Fatal(err)
	}
	routes = filepath.Join(dir, "routes.txt")
	lines := []string{
		// 198.51.100.0/24 via the provider (unknown above it) and via a leak.
		"TABLE_DUMP2|1764633600|B|192.0.2.10|64510|198.51.100.0/24|64510 64497 64496|IGP|192.0.2.10|0|0||NAG||",
		"TABLE_DUMP2|1764633600|B|192.0.2.11|64511|198.51.100.0/24|64511 64501 64496|IGP|192.0.2.11|0|0||NAG||",
		// 192.0.2.0/24: leaked on its only path: lost, unreachable.
		"TABLE_DUMP2|1764633600|B|192.0.2.11|64511|192.0.2.0/24|64511 64501 64496 64496|IGP|192.0.2.11|0|0||NAG||",
		// 2001:db8:1234:5678::/64 from AS64505 (AS0 ASPA) through a peer: invalid.
		"TABLE_DUMP2|1764633600|B|192.0.2.10|64510|2001:db8:1234:5678::/64|64510 64505|IGP|192.0.2.10|0|0||NAG||",
		// From the provider AS64512: a valley-free path, downstream: valid.
		"TABLE_DUMP2|1764633600|B|192.0.2.12|64512|198.51.100.0/25|64512 64497 64496|IGP|192.0.2.12|0|0||NAG||",
		// ROV invalid (the VRP names AS64999), ASPA unknown.
		"TABLE_DUMP2|1764633600|B|192.0.2.10|64510|203.0.113.0/24|64510 64498|IGP|192.0.2.10|0|0||NAG||",
	}
	if err := os.WriteFile(routes, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return vrps, routes
}

func TestASPACommandJSON(t *testing.T) {
	vrps, routes := aspaFixture(t)
	out, stderr, err := runCLI(t, "aspa", "--vrps", vrps, "--peer-role", "64512=provider", "--format", "json", routes)
	if err != nil {
		t.Fatalf("aspa: %v\n%s", err, stderr)
	}
	var rep struct {
		Summary struct {
			ASPA struct {
				Valid, Invalid, Unknown, Unverified int64
				Matrix                              map[string]map[string]int64
				RoutesDroppedASPA                   int                       `json:"routes_dropped_aspa_only"`
				DroppedBy                           map[string]int            `json:"routes_dropped_aspa_only_by"`
				PrefixesLost                        int                       `json:"prefixes_without_surviving_route"`
				Impact                              struct{ Unreachable int } `json:"impact_aspa_only"`
			} `json:"aspa"`
			Roles struct {
				Downstream int `json:"peers_downstream"`
				Defaulted  int `json:"peers_defaulted"`
			} `json:"roles"`
			Notes []string
		}
		Customers []struct {
			Customer uint32
			Unlisted []uint32 `json:"unlisted_next_ases"`
			Paths    int      `json:"invalid_paths"`
			Lost     int      `json:"routes_lost"`
		} `json:"aspa_customers"`
		InvalidPaths []struct {
			Prefix string
			ASPA   string `json:"aspa"`
			Reason string
			Up     *struct {
				Customer, Provider uint32
				Providers          []uint32 `json:"aspa_providers"`
			} `json:"up_hop"`
		} `json:"invalid_paths"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	a := rep.Summary.ASPA
	if a.Valid != 1 || a.Invalid != 3 || a.Unknown != 2 || a.Unverified != 0 {
		t.Errorf("valid/invalid/unknown/unverified = %d/%d/%d/%d, want 1/3/2/0\n%s", a.Valid, a.Invalid, a.Unknown, a.Unverified, out)
	}
	if a.Matrix["invalid"]["unknown"] != 1 || a.Matrix["not_found"]["invalid"] != 3 {
		t.Errorf("matrix %v", a.Matrix)
	}
	if a.RoutesDroppedASPA != 2 || a.Impact.Unreachable != 2 || a.PrefixesLost != 3 {
		t.Errorf("dropped by ASPA %d (unreachable %d), prefixes lost %d; want 2 (2), 3", a.RoutesDroppedASPA, a.Impact.Unreachable, a.PrefixesLost)
	}
	if len(a.DroppedBy) != 1 || a.DroppedBy["not_provider"] != 2 {
		t.Errorf("routes dropped by ASPA alone, by reason: %v, want not_provider 2", a.DroppedBy)
	}
	if rep.Summary.Roles.Downstream != 1 || rep.Summary.Roles.Defaulted != 2 || len(rep.Summary.Notes) == 0 {
		t.Errorf("roles %+v, notes %q", rep.Summary.Roles, rep.Summary.Notes)
	}
	if len(rep.Customers) != 2 || rep.Customers[0].Customer != 64496 || len(rep.Customers[0].Unlisted) != 1 ||
		rep.Customers[0].Unlisted[0] != 64501 || rep.Customers[0].Paths != 2 || rep.Customers[0].Lost != 1 ||
		rep.Customers[1].Customer != 64505 {
		t.Errorf("aspa_customers = %+v, want AS64496 (2 paths via AS64501, 1 route lost) then AS64505", rep.Customers)
	}
	var as0 bool
	for _, p := range rep.InvalidPaths {
		if p.ASPA != "invalid" || p.Reason != "not_provider" || p.Up == nil {
			t.Errorf("path %+v", p)
			continue
		}
		if p.Up.Customer == 64505 && len(p.Up.Providers) == 0 {
			as0 = true
		}
	}
	if !as0 {
		t.Error("the AS0 ASPA customer's path is not reported with an empty provider set")
	}
}

func TestASPACommandTable(t *testing.T) {
	vrps, routes := aspaFixture(t)
	out, stderr, err := runCLI(t, "aspa", "--vrps", vrps, routes)
	if err != nil {
		t.Fatalf("aspa: %v\n%s", err, stderr)
	}
	for _, want := range []string{"verified as peer (upstream", "AS64496>AS64501", "none (AS0)", "ROV \\ ASPA"} {
		if !strings.Contains(out, want) {
			t.Errorf("table output lacks %q:\n%s", want, out)
		}
	}
	for i, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > 120 {
			t.Errorf("line %d is %d columns: %s", i+1, n, l)
		}
	}
}

func TestASPACommandErrors(t *testing.T) {
	vrps, routes := aspaFixture(t)
	noASPA := filepath.Join(t.TempDir(), "vrps.json")
	if err := os.WriteFile(noASPA, []byte(`{"roas":[{"asn":64999,"prefix":"203.0.113.0/24","maxLength":24}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	badCSV := filepath.Join(t.TempDir(), "roles.csv")
	if err := os.WriteFile(badCSV, []byte("# peer,role\n64500,provider\n192.0.2.1,upstream\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "routes.txt")
	if err := os.WriteFile(plain, []byte("192.0.2.0/24 64496\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"prefix-origin lines have no AS path", []string{plain}, 1, "needs the AS paths"},
		{"bad role", []string{"--peer-role", "64500=upstream"}, 2, "unknown peer role"},
		{"no =", []string{"--peer-role", "64500"}, 2, "want AS|IP=ROLE"},
		{"bad key", []string{"--peer-role", "foo=peer"}, 2, "want an AS number"},
		{"bad CSV line names file and line", []string{"--peer-roles", badCSV}, 2, "roles.csv: line 3"},
		{"no ASPAs", []string{"--vrps", noASPA}, 1, "hold no ASPA"},
		{"bad format", []string{"--format", "xml"}, 2, "format"},
		{"--peer matches no peer", []string{"--peer", "AS64999"}, 2, "--peer AS64999 matches no peer of the route files; peers seen (3 of 3): AS64510 192.0.2.10"},
		{"bad --peer", []string{"--peer", "x"}, 2, "want an AS number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"aspa"}, c.args...)
			if !strings.Contains(strings.Join(c.args, " "), "--vrps") {
				args = append(args, "--vrps", vrps)
			}
			_, _, err := runCLI(t, append(args, routes)...)
			if err == nil || exitCode(err) != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v (exit %d), want exit %d mentioning %q", err, exitCode(err), c.code, c.msg)
			}
		})
	}
}

// TestASPACommandRollups pins the per-origin and per-peer rollups (JSON
// and table), --peer, and the csv, ndjson and html formats on the
// fixture: AS64511 sends the two leaked paths, AS64510 the AS0 customer's
// path, AS64512 (provider) one valid path.
func TestASPACommandRollups(t *testing.T) {
	vrps, routes := aspaFixture(t)
	type peerRow struct {
		PeerAS                         uint32 `json:"peer_as"`
		Role, Procedure                string
		Paths, Valid, Unknown, Invalid int64
		Unverified                     int64
	}
	type originRow struct {
		Origin                  *uint32
		Routes                  int
		Paths, Unknown, Invalid int64
		RoutesDroppedASPA       int `json:"routes_dropped_aspa_only"`
	}
	var rep struct {
		Summary struct {
			Paths int64
			ASPA  struct{ Invalid int64 } `json:"aspa"`
		}
		Peers   []peerRow   `json:"aspa_peers"`
		Origins []originRow `json:"aspa_origins"`
	}
	out, stderr, err := runCLI(t, "aspa", "--vrps", vrps, "--peer-role", "64512=provider", "--format", "json", routes)
	if err != nil {
		t.Fatalf("aspa: %v\n%s", err, stderr)
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	wantPeers := []peerRow{{64511, "peer", "upstream", 2, 0, 0, 2, 0}, {64510, "peer", "upstream", 3, 0, 2, 1, 0}, {64512, "provider", "downstream", 1, 1, 0, 0, 0}}
	if fmt.Sprint(rep.Peers) != fmt.Sprint(wantPeers) {
		t.Errorf("aspa_peers = %+v\nwant %+v", rep.Peers, wantPeers)
	}
	if len(rep.Origins) != 2 || *rep.Origins[0].Origin != 64496 || rep.Origins[0].Routes != 2 || rep.Origins[0].Paths != 3 ||
		rep.Origins[0].Unknown != 1 || rep.Origins[0].Invalid != 2 || rep.Origins[0].RoutesDroppedASPA != 1 ||
		*rep.Origins[1].Origin != 64505 || rep.Origins[1].Invalid != 1 || rep.Origins[1].RoutesDroppedASPA != 1 {
		t.Errorf("aspa_origins = %+v", rep.Origins)
	}
	// --peer keeps that peer's paths only.
	out, _, err = runCLI(t, "aspa", "--vrps", vrps, "--peer", "192.0.2.11", "--format", "json", routes)
	if err != nil {
		t.Fatal(err)
	}
	rep.Peers = nil
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Paths != 2 || rep.Summary.ASPA.Invalid != 2 || len(rep.Peers) != 1 || rep.Peers[0].PeerAS != 64511 {
		t.Errorf("--peer 192.0.2.11: %d paths, %d invalid, peers %+v; want 2, 2, AS64511 only", rep.Summary.Paths, rep.Summary.ASPA.Invalid, rep.Peers)
	}
	table, _, err := runCLI(t, "aspa", "--vrps", vrps, routes)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Peers (3), most invalid paths first", "AS64511 192.0.2.11", "Origins with ASPA-invalid or unverified paths (2)"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	csvOut, _, err := runCLI(t, "aspa", "--vrps", vrps, "--format", "csv", routes)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csvOut), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "prefix,origin,peer_as,peer_ip,role,aspa,reason") ||
		lines[1] != "192.0.2.0/24,64496,64511,192.0.2.11,peer,invalid,not_provider,,64496,64501,64497,,,,not_found,false" ||
		!strings.Contains(csvOut, ",64505,64510,0,,,,not_found,false") {
		t.Errorf("csv:\n%s", csvOut)
	}
	nd, _, err := runCLI(t, "aspa", "--vrps", vrps, "--format", "ndjson", routes)
	if err != nil {
		t.Fatal(err)
	}
	ndLines := strings.Split(strings.TrimSpace(nd), "\n")
	var first struct {
		Prefix string
		ASPA   string `json:"aspa"`
	}
	if len(ndLines) != 3 || json.Unmarshal([]byte(ndLines[0]), &first) != nil || first.Prefix != "192.0.2.0/24" || first.ASPA != "invalid" {
		t.Errorf("ndjson:\n%s", nd)
	}
	page, _, err := runCLI(t, "aspa", "--vrps", vrps, "--format", "html", routes)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="aspa-matrix"`, `id="aspa-paths" data-rows="3"`, `id="aspa-peers"`, `id="aspa-origins"`, `id="invalids"`,
		"<td>AS64496&gt;AS64501</td>", "none (AS0)"} {
		if !strings.Contains(page, want) {
			t.Errorf("html lacks %q", want)
		}
	}
}

// TestLookupASPA: with ASPAs in --vrps, a prefix answer lists each path
// with its ASPA verdict and failing hop, an address answer the paths of
// every route containing it, and an AS path query is answered hop by hop
// with the verdict aspa --path gives; without ASPAs an AS path query is
// exit 1, and in csv exit 2.
func TestLookupASPA(t *testing.T) {
	vrps, routes := aspaFixture(t)
	out, stderr, err := runCLI(t, "lookup", "--vrps", vrps, "--peer-role", "64512=provider", "--format", "json",
		"198.51.100.0/24", "198.51.100.1", "AS64511 AS64501 AS64496", routes)
	if err != nil {
		t.Fatalf("lookup: %v\n%s", err, stderr)
	}
	var doc struct {
		Answers []struct {
			Kind      string
			ASPAPaths []struct {
				PeerAS uint32 `json:"peer_as"`
				Role   string
				Path   string `json:"as_path"`
				ASPA   string `json:"aspa"`
				Reason string
				Up     *struct{ Customer, Provider uint32 } `json:"up_hop"`
			} `json:"aspa_paths"`
			ASPAPath *struct {
				ASPA string `json:"aspa"`
				Hops []struct {
					Lower, Upper uint32
					Up           string
				}
			} `json:"aspa_path"`
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(doc.Answers) != 3 {
		t.Fatalf("%d answers:\n%s", len(doc.Answers), out)
	}
	pfx := doc.Answers[0].ASPAPaths
	if len(pfx) != 2 || pfx[0].PeerAS != 64510 || pfx[0].ASPA != "unknown" || pfx[1].PeerAS != 64511 || pfx[1].ASPA != "invalid" ||
		pfx[1].Reason != "not_provider" || pfx[1].Up == nil || *pfx[1].Up != (struct{ Customer, Provider uint32 }{64496, 64501}) ||
		pfx[1].Path != "AS64511 AS64501 AS64496" {
		t.Errorf("prefix answer's aspa_paths = %+v", pfx)
	}
	addr := doc.Answers[1].ASPAPaths
	if len(addr) != 3 || addr[0].PeerAS != 64512 || addr[0].Role != "provider" || addr[0].ASPA != "valid" {
		t.Errorf("address answer's aspa_paths = %+v (want the /25's provider path, valid, first)", addr)
	}
	p := doc.Answers[2]
	if p.Kind != "as_path" || p.ASPAPath == nil || p.ASPAPath.ASPA != "invalid" || len(p.ASPAPath.Hops) != 2 ||
		p.ASPAPath.Hops[0].Lower != 64496 || p.ASPAPath.Hops[0].Up != "not_provider_plus" {
		t.Errorf("AS path answer = %+v", p)
	}
	// The same explanation as aspa --path, byte for byte in the table.
	viaLookup, _, err := runCLI(t, "lookup", "--vrps", vrps, "AS64511 AS64501 AS64496")
	if err != nil {
		t.Fatal(err)
	}
	viaASPA, _, err := runCLI(t, "aspa", "--vrps", vrps, "--path", "AS64511 AS64501 AS64496")
	if err != nil {
		t.Fatal(err)
	}
	if viaLookup != viaASPA {
		t.Errorf("lookup of an AS path:\n%s\naspa --path:\n%s", viaLookup, viaASPA)
	}
	noASPA := filepath.Join(t.TempDir(), "vrps.json")
	if err := os.WriteFile(noASPA, []byte(`{"roas":[{"asn":64999,"prefix":"203.0.113.0/24","maxLength":24}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, "lookup", "--vrps", noASPA, "AS64511 AS64501"); exitCode(err) != 1 || !strings.Contains(err.Error(), "needs ASPAs") {
		t.Errorf("AS path query without ASPAs: %v (exit %d), want exit 1", err, exitCode(err))
	}
	if _, _, err := runCLI(t, "lookup", "--vrps", vrps, "--format", "csv", "AS64511 AS64501"); exitCode(err) != 2 {
		t.Errorf("AS path query in csv: %v (exit %d), want exit 2", err, exitCode(err))
	}
	// Without ASPAs a prefix answer has no aspa_paths (JSON unchanged).
	out, _, err = runCLI(t, "lookup", "--vrps", noASPA, "--format", "json", "198.51.100.0/24", routes)
	if err != nil || strings.Contains(out, "aspa") {
		t.Errorf("lookup without ASPAs: %v\n%s", err, out)
	}
}

// TestAnalyzeASPA: analyze --aspa adds summary.aspa (the counts rovimpact
// aspa gives) to the JSON and the ASPA section to the HTML; without it
// neither appears; --peer-role needs --aspa, and --aspa needs ASPAs.
func TestAnalyzeASPA(t *testing.T) {
	vrps, routes := aspaFixture(t)
	out, stderr, err := runCLI(t, "analyze", "--vrps", vrps, "--aspa", "--peer-role", "64512=provider", "--format", "json", routes)
	if err != nil {
		t.Fatalf("analyze --aspa: %v\n%s", err, stderr)
	}
	var rep struct {
		Summary struct {
			Routes int
			ASPA   *struct {
				Valid, Invalid, Unknown int64
				Matrix                  map[string]map[string]int64
			} `json:"aspa"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if a := rep.Summary.ASPA; a == nil || a.Valid != 1 || a.Invalid != 3 || a.Unknown != 2 || a.Matrix["not_found"]["invalid"] != 3 {
		t.Errorf("summary.aspa = %+v, want valid 1, invalid 3, unknown 2 (as aspa says)", a)
	}
	page, _, err := runCLI(t, "analyze", "--vrps", vrps, "--aspa", "--format", "html", routes)
	if err != nil || !strings.Contains(page, `id="aspa-paths" data-rows="3"`) || !strings.Contains(page, `id="invalids"`) {
		t.Errorf("analyze --aspa html: %v; ASPA section or route table missing", err)
	}
	plain, _, err := runCLI(t, "analyze", "--vrps", vrps, "--format", "json", routes)
	if err != nil || strings.Contains(plain, `"aspa"`) {
		t.Errorf("analyze without --aspa: %v, has an aspa member", err)
	}
	if _, _, err := runCLI(t, "analyze", "--vrps", vrps, "--peer-role", "64512=provider", routes); exitCode(err) != 2 {
		t.Errorf("--peer-role without --aspa: %v, want exit 2", err)
	}
	noASPA := filepath.Join(t.TempDir(), "vrps.json")
	if err := os.WriteFile(noASPA, []byte(`{"roas":[{"asn":64999,"prefix":"203.0.113.0/24","maxLength":24}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, "analyze", "--vrps", noASPA, "--aspa", routes); exitCode(err) != 1 || !strings.Contains(err.Error(), "hold no ASPA") {
		t.Errorf("--aspa without ASPAs: %v, want exit 1", err)
	}
}
