package reports

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/rov"
)

func dpOrigin(v uint32) *uint32 { return &v }

func dInv(prefix string, origin *uint32, class, impact string) Invalid {
	cl, err := classify.ParseClass(class)
	if err != nil {
		panic(err)
	}
	im, err := classify.ParseImpact(impact)
	if err != nil {
		panic(err)
	}
	return Invalid{Prefix: netip.MustParsePrefix(prefix), Origin: origin, ASSet: []uint32{}, State: classify.StateInvalid, Class: cl,
		VRPs: []VRPRef{}, Dropped: impact != "", Impact: im}
}

// TestDiffReports covers every kind of change on hand-made runs. Identity
// is (prefix, origin or AS_SET).
func TestDiffReports(t *testing.T) {
	from := Report{Invalids: []Invalid{
		dInv("10.0.0.0/24", dpOrigin(64500), "wrong_origin", "covered"),     // unchanged
		dInv("10.0.1.0/24", dpOrigin(64500), "wrong_origin", "covered"),     // resolved (ROA fixed)
		dInv("10.0.2.0/24", dpOrigin(64501), "too_specific", "covered"),     // class changes
		dInv("10.0.3.0/24", dpOrigin(64502), "wrong_origin", "covered"),     // cover withdrawn: turns unreachable
		dInv("10.0.4.0/24", nil, "as_set", "same_prefix"),                   // AS_SET route, unchanged
		dInv("10.0.5.0/24", dpOrigin(64503), "wrong_origin", "unreachable"), // same prefix, other origin below: distinct route
	}}
	from.Summary.Invalid, from.Summary.Impact.Unreachable = 6, 1
	to := Report{Invalids: []Invalid{
		dInv("10.0.0.0/24", dpOrigin(64500), "wrong_origin", "covered"),
		dInv("10.0.2.0/24", dpOrigin(64501), "both", "covered"),
		dInv("10.0.3.0/24", dpOrigin(64502), "wrong_origin", "unreachable"),
		dInv("10.0.4.0/24", nil, "as_set", "same_prefix"),
		dInv("10.0.5.0/24", dpOrigin(64504), "wrong_origin", "unreachable"), // new origin: hijack-like, new and unreachable
		dInv("10.0.6.0/24", dpOrigin(64505), "too_short", "more_specifics"), // new, reachable
		dInv("10.0.7.0/24", nil, "as_set", "covered"),                       // new AS_SET route
	}}
	to.Summary.Invalid, to.Summary.Impact.Unreachable = 7, 2
	d := DiffReports(from, to, "A", "B")

	keys := func(invs []Invalid) []string {
		var out []string
		for _, i := range invs {
			out = append(out, i.Prefix.String()+" "+originString(i.Origin, "AS_SET"))
		}
		return out
	}
	if got, want := keys(d.New), []string{"10.0.5.0/24 64504", "10.0.6.0/24 64505", "10.0.7.0/24 AS_SET"}; !reflect.DeepEqual(got, want) {
		t.Errorf("new: got %v, want %v", got, want)
	}
	if got, want := keys(d.Resolved), []string{"10.0.1.0/24 64500", "10.0.5.0/24 64503"}; !reflect.DeepEqual(got, want) {
		t.Errorf("resolved: got %v, want %v", got, want)
	}
	wantChanged := []struct {
		prefix string
		fields []string
	}{{"10.0.2.0/24", []string{"class"}}, {"10.0.3.0/24", []string{"impact"}}}
	if len(d.Changed) != len(wantChanged) {
		t.Fatalf("changed: got %+v, want %v", d.Changed, wantChanged)
	}
	for i, w := range wantChanged {
		if c := d.Changed[i]; c.Prefix.String() != w.prefix || !reflect.DeepEqual(c.Fields, w.fields) {
			t.Errorf("changed[%d]: got %s %v, want %s %v", i, c.Prefix, c.Fields, w.prefix, w.fields)
		}
	}
	// 10.0.5.0/24 AS64504 is new and unreachable; 10.0.3.0/24 turned
	// unreachable. 10.0.5.0/24 AS64503 was already unreachable: not new.
	if d.NewUnreachable != 2 {
		t.Errorf("new_unreachable = %d, want 2", d.NewUnreachable)
	}
	if c := d.count("invalid"); c.From != 6 || c.To != 7 || c.Delta != 1 {
		t.Errorf("invalid delta: %+v", c)
	}
	line := d.Line()
	for _, part := range []string{"A -> B", "invalid 6 -> 7 (+1)", "3 new, 2 resolved, 2 changed; 2 newly unreachable"} {
		if !strings.Contains(line, part) {
			t.Errorf("line %q lacks %q", line, part)
		}
	}
	var buf bytes.Buffer
	if err := WriteDiffCSV(&buf, d); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1+3+2+2 {
		t.Errorf("csv has %d lines, want 8:\n%s", n, buf.String())
	}
	// The same report twice: nothing changed.
	same := DiffReports(to, to, "B", "B")
	if len(same.New)+len(same.Resolved)+len(same.Changed)+same.NewUnreachable != 0 {
		t.Errorf("self diff not empty: %+v", same)
	}
}

// TestDiffVRPs: VRPs compare on (prefix, maxLength, ASN); TA and
// duplicates do not matter.
func TestDiffVRPs(t *testing.T) {
	v := func(p string, ml uint8, asn uint32, ta string) rov.VRP {
		return rov.VRP{Prefix: netip.MustParsePrefix(p), MaxLen: ml, ASN: asn, TA: ta}
	}
	a := []rov.VRP{v("192.0.2.0/24", 24, 64500, "ripe"), v("198.51.100.0/22", 24, 64501, "arin"), v("2001:db8::/32", 48, 64502, "ripe"), v("192.0.2.0/24", 24, 64500, "ripe")}
	b := []rov.VRP{v("2001:db8::/32", 48, 64502, "apnic"), v("198.51.100.0/22", 23, 64501, "arin"), v("192.0.2.0/24", 24, 64500, "ripe"), v("203.0.113.0/24", 24, 0, "arin")}
	onlyA, onlyB := DiffVRPs(a, b)
	str := func(rs []VRPRef) string { return vrpList(rs, ";") }
	if got, want := str(onlyA), "198.51.100.0/22-24 AS64501"; got != want {
		t.Errorf("only A: got %q, want %q", got, want)
	}
	if got, want := str(onlyB), "198.51.100.0/22-23 AS64501;203.0.113.0/24 AS0"; got != want {
		t.Errorf("only B: got %q, want %q", got, want)
	}
}
