package reports

import (
	"bytes"
	"encoding/json"
	"net/netip"
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
	var b bytes.Buffer
	if err := WriteASPATable(&b, rep, 0); err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(b.String(), "\n") {
		if n := utf8.RuneCountInString(l); n > TerminalWidth {
			t.Errorf("line %d is %d columns: %s", i+1, n, l)
		}
	}
	for _, want := range []string{"none (AS0)", "first", "unverified:", "confed", "AS4294967291>", "+34", "+35"} {
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
