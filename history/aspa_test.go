package history

import (
	"context"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/rov"
)

// withASPA is mkReport(2) as analyze --aspa makes it: ASPA counts and its
// invalid paths (one per given peer AS, at 10.0.0.0/24).
func withASPA(invalid int64, peers ...uint32) reports.Report {
	rep := mkReport(2)
	rep.Summary.ASPA = &reports.ASPASummary{Draft: reports.ASPADraft, Valid: 5, Unknown: 90, Invalid: invalid, RoutesDroppedASPA: 1,
		InvalidBy: map[string]int64{"not_provider": invalid}, Matrix: map[string]map[string]int64{"valid": {"valid": 5}}, DroppedASPABy: map[string]int{}}
	rep.ASPAPaths = []reports.ASPAPathRow{}
	for _, p := range peers {
		rep.ASPAPaths = append(rep.ASPAPaths, reports.ASPAPathRow{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Origin: u32(64500),
			PeerAS: p, PeerIP: netip.MustParseAddr("192.0.2.1"), Role: rov.RolePeer, State: rov.ASPAInvalid, Reason: rov.ASPAReasonRamps,
			Up: &reports.ASPAHop{Customer: 64500, Provider: 64501, Providers: []uint32{64497}}, ROV: rov.Invalid})
	}
	return rep
}

// TestASPAHistory: a v2 file migrates to v3 keeping its runs (no ASPA
// counts: NULL, "aspa" absent from the day); a run of analyze --aspa reads
// back whole (counts and paths), its day carries the ASPA counts, and the
// diff of two such runs names the paths that changed verdict.
func TestASPAHistory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v2.db")
	old, err := openAt(ctx, path, 2)
	if err != nil {
		t.Fatal(err)
	}
	plain := mkReport(2)
	id0, err := old.Append(ctx, day0, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v, _ := st.Version(ctx); v != 3 {
		t.Fatalf("version %d after migration, want 3", v)
	}
	a, b := withASPA(2, 64510, 64511), withASPA(1, 64511, 64512)
	a.ASPAPaths[1].Reason = rov.ASPAReasonASSet
	a.ASPAPaths[1].Up = nil
	idA, err := st.Append(ctx, day0.AddDate(0, 0, 1), a, nil)
	if err != nil {
		t.Fatal(err)
	}
	idB, err := st.Append(ctx, day0.AddDate(0, 0, 2), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := st.Report(ctx, idA)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Errorf("ASPA run round trip:\ngot  %+v\nwant %+v", got.ASPAPaths, a.ASPAPaths)
	}
	var counted int64
	if err := st.db.QueryRowContext(ctx, "SELECT aspa_invalid FROM runs WHERE id = ?", idB).Scan(&counted); err != nil || counted != 1 {
		t.Errorf("runs.aspa_invalid of the second ASPA run = %d, %v; want 1", counted, err)
	}
	var null any
	if err := st.db.QueryRowContext(ctx, "SELECT aspa_invalid FROM runs WHERE id = ?", id0).Scan(&null); err != nil || null != nil {
		t.Errorf("runs.aspa_invalid of the migrated run = %v, %v; want NULL", null, err)
	}
	days, err := st.Days(ctx, day0)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 3 || days[0].ASPA != nil || days[1].ASPA == nil || days[1].ASPA.Invalid != 2 || days[2].ASPA.Invalid != 1 || days[2].ASPA.RoutesDropped != 1 {
		t.Errorf("days' ASPA: %+v %+v %+v", days[0].ASPA, days[1].ASPA, days[2].ASPA)
	}
	gb, _, err := st.Report(ctx, idB)
	if err != nil {
		t.Fatal(err)
	}
	d := reports.DiffReports(got, gb, "a", "b").ASPA
	if d == nil || len(d.New) != 1 || d.New[0].PeerAS != 64512 || len(d.Resolved) != 1 || d.Resolved[0].PeerAS != 64510 ||
		len(d.Changed) != 1 || d.Changed[0].ReasonFrom != rov.ASPAReasonASSet || d.Changed[0].HopTo != "AS64500>AS64501" {
		t.Errorf("ASPA diff: %+v", d)
	}
	p, _, err := st.Report(ctx, id0)
	if err != nil {
		t.Fatal(err)
	}
	if d := reports.DiffReports(p, gb, "plain", "b").ASPA; d == nil || d.Note == "" || len(d.New) != 0 {
		t.Errorf("diff of a run without ASPA against one with: %+v, want a note and no paths", d)
	}
}
