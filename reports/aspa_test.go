package reports

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rovimpact/rovimpact/rov"
)

// TestASPATableWidth: the worst cells (an IPv6 /64 with four full groups,
// as analyze's compact table allows for, 10-digit
// ASNs, a downstream path naming two hops, an AS0 ASPA, long notes) stay
// within TerminalWidth.
func TestASPATableWidth(t *testing.T) {
	big := uint32(4294967294)
	rep := ASPAReport{Summary: ASPAStudySummary{Notes: []string{strings.Repeat("a long note that must wrap ", 12)}}}
	rep.Summary.ASPA.InvalidBy = map[string]int64{"not_provider": 2}
	rep.Summary.ASPA.Matrix = map[string]map[string]int64{"valid": {"valid": 1 << 40}}
	rep.InvalidPaths = []ASPAPathRow{
		{Prefix: netip.MustParsePrefix("2001:db8a:1234:5678::/64"), Origin: &big, PeerAS: big,
			State: rov.ASPAInvalid, Reason: rov.ASPAReasonRamps, Role: rov.RoleProvider,
			Up:   &ASPAHop{Customer: big, Provider: big - 1, Providers: []uint32{big, big - 1, big - 2}},
			Down: &ASPAHop{Customer: big - 3, Provider: big - 4}},
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), PeerAS: 64500, State: rov.ASPAInvalid, Reason: rov.ASPAReasonFirstAS, FirstAS: big},
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), PeerAS: 64500, State: rov.ASPAUnverified, Reason: rov.ASPAReasonConfed},
	}
	many := make([]uint32, 40)
	for i := range many {
		many[i] = big - uint32(i)
	}
	rep.Customers = aspaCustomers(rep.InvalidPaths)
	rep.Customers = append(rep.Customers, ASPACustomer{Customer: big, Providers: many, Unlisted: many, Paths: 1 << 30, RoutesLost: 1 << 30})
	rep.Origins = []ASPAOriginRow{{Origin: &big, Routes: 1 << 30, Paths: 1 << 30, Valid: 1 << 30, Unknown: 1 << 30, Invalid: 1 << 30,
		Unverified: 1 << 30, RoutesDroppedASPA: 1 << 30}, {Origin: nil, Invalid: 1}}
	rep.Peers = []ASPAPeerRow{{PeerAS: big, PeerIP: netip.MustParseAddr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), Role: rov.RoleRSClient,
		Paths: 1 << 30, Valid: 1 << 30, Unknown: 1 << 30, Invalid: 1 << 30, Unverified: 1 << 30}}
	var b bytes.Buffer
	if err := WriteASPATable(&b, rep, 0); err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(b.String(), "\n") {
		if n := utf8.RuneCountInString(l); n > TerminalWidth {
			t.Errorf("line %d is %d columns: %s", i+1, n, l)
		}
	}
	for _, want := range []string{"none (AS0)", "first", "unverified:", "confed", "AS4294967291>", "+34", "+35", "AS_SET", "rs-client", "100.0%"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// TestASPAJSONNames: the summary's aspa object has integer counts and the
// path rows carry the verdict under "aspa" with stable names.
func TestASPAJSONNames(t *testing.T) {
	rep := ASPAReport{InvalidPaths: []ASPAPathRow{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), State: rov.ASPAInvalid,
		Reason: rov.ASPAReasonASSet, Role: rov.RoleRSClient}}}
	rep.Summary.ASPA.Valid, rep.Summary.ASPA.Invalid, rep.Summary.ASPA.Unknown = 3, 1, 2
	var b bytes.Buffer
	if err := WriteASPAJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	a := got["summary"].(map[string]any)["aspa"].(map[string]any)
	if a["valid"] != 3.0 || a["invalid"] != 1.0 || a["unknown"] != 2.0 {
		t.Errorf("summary.aspa = %v", a)
	}
	row := got["invalid_paths"].([]any)[0].(map[string]any)
	if _, dup := row["State"]; dup {
		t.Errorf("row has a stray State key: %v", row)
	}
	if row["aspa"] != "invalid" || row["reason"] != "as_set" || row["role"] != "rs-client" || row["rov"] != "not_found" {
		t.Errorf("row = %v", row)
	}
}

// sampleASPAReport is an ASPA report of n invalid paths (every third
// survives, every fifth is downstream with two hops, every seventh has an
// AS0 ASPA, every eleventh an AS_SET) for the HTML tests.
func sampleASPAReport(n int) ASPAReport {
	rep := ASPAReport{InvalidPaths: []ASPAPathRow{}}
	x := &rep.Summary.ASPA
	x.Draft, x.ASPAs, x.Valid, x.Unknown, x.Invalid = ASPADraft, 100, 10, 1000, int64(n)
	x.Matrix = map[string]map[string]int64{"valid": {"valid": 10, "unknown": 500}, "not_found": {"unknown": 500, "invalid": int64(n)}, "invalid": {}}
	for i := range n {
		o := uint32(64496 + i%40)
		r := ASPAPathRow{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24), Origin: &o,
			PeerAS: 64510 + uint32(i%3), PeerIP: netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 3)}), Role: rov.RolePeer,
			State: rov.ASPAInvalid, Reason: rov.ASPAReasonRamps, ROV: rov.NotFound, Survives: i%3 == 0,
			Up: &ASPAHop{Customer: o, Provider: 64501, Providers: []uint32{64497, 64498, 64499, 64500, 64502}}}
		switch {
		case i%11 == 0:
			r.Origin, r.Reason, r.Up = nil, rov.ASPAReasonASSet, nil
		case i%7 == 0:
			r.Up.Providers = nil
		case i%5 == 0:
			r.Role, r.Down = rov.RoleProvider, &ASPAHop{Customer: 64520, Provider: 64521, Providers: []uint32{64522}}
		}
		rep.InvalidPaths = append(rep.InvalidPaths, r)
	}
	rep.Peers = []ASPAPeerRow{{PeerAS: 64510, PeerIP: netip.MustParseAddr("192.0.2.0"), Role: rov.RolePeer, Procedure: "upstream", Paths: 5, Invalid: 3, Unknown: 2}}
	o := uint32(64496)
	rep.Origins = []ASPAOriginRow{{Origin: &o, Routes: 2, Paths: 3, Invalid: 3, RoutesDroppedASPA: 1}}
	return rep
}

// TestASPAHTMLSection: the section shows with an ASPA report (cards,
// matrix, rollups, the first rows, the data for the rest) and not without.
func TestASPAHTMLSection(t *testing.T) {
	rep := sampleASPAReport(250)
	page := string(writeHTML(t, HTMLDoc{Report: sampleReport(t), ASPA: &rep}))
	for _, want := range []string{`id="aspa-summary"`, `<div class="n">250</div><div class="l">paths ASPA-invalid`,
		`<tr><td>not_found</td><td class="num">0</td><td class="num">500</td><td class="num">250</td>`,
		`id="aspa-paths" data-rows="250"`, "first 100 of 250 rows", `<td>AS64497&gt;AS64501</td>`,
		`AS64497, AS64498, AS64499<details class="more"><summary>+2 more</summary>`, "none (AS0)", `<td class="num">64510</td><td>192.0.2.0</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if got := strings.Count(page[strings.Index(page, `id="aspa-paths"`):], "<tr><td>10."); got != 100 {
		t.Errorf("%d path rows rendered, want the first 100", got)
	}
	d, err := readHTMLData(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	if d.ASPAPaths == nil || len(d.ASPAPaths.Prefix) != 250 || d.ASPAPaths.Up[0] != nil || *d.ASPAPaths.Up[1] != [2]uint32{64497, 64501} {
		t.Errorf("embedded aspa_paths: %+v", d.ASPAPaths)
	}
	plain := string(writeHTML(t, HTMLDoc{Report: sampleReport(t)}))
	if strings.Contains(plain, `id="aspa`) {
		t.Error("a report without ASPAs has an ASPA section")
	}
}

// TestASPAHTMLInChromium opens a report with the ASPA section in headless
// Chromium (runSelfCheck, as TestHTMLInChromium): the script's first page
// of paths is the page Go rendered, filtering and sorting reach every
// path, and the route tables still pass their own checks.
func TestASPAHTMLInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	chromium := chromiumPath(t)
	rep := sampleASPAReport(250)
	page := filepath.Join(t.TempDir(), "aspa.html")
	if err := os.WriteFile(page, writeHTML(t, HTMLDoc{Title: "rovimpact aspa", Report: sampleReport(t), ASPA: &rep}), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runSelfCheck(t, chromium, page)
	lost := 0
	for _, p := range rep.InvalidPaths {
		if !p.Survives {
			lost++
		}
	}
	if res.ASPAPathRows != 250 || res.ASPALost != lost {
		t.Errorf("aspa_path_rows %d, aspa_lost %d; want 250, %d (errors %v)", res.ASPAPathRows, res.ASPALost, lost, res.Errors)
	}
}
