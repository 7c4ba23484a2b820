package archive

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMergePersistence builds results by hand: collector c has results at
// four times an hour apart; route A (AS1) is invalid at t0, t1 and t3,
// unreachable at t1 and t3; route B (AS_SET) at t2 only. Times are
// consecutive positions in c's timeline, so A's longest run is 2.
func TestMergePersistence(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2025, 7, 20, 8, 0, 0, 0, time.UTC)
	as1 := int64(1)
	var manifest []Unit
	for i := range 4 {
		at := t0.Add(time.Duration(i) * time.Hour)
		u := Unit{Collector: "c", Time: &at, RIB: "rib" + string(rune('0'+i)), VRPs: "v"}
		manifest = append(manifest, u)
		var invs []InvalidRow
		sum := SummaryRow{Unit: u.ID(), Time: at.UnixMilli(), Routes: 10, Tally: Tally{Valid: 9}, Updates: []string{}}
		if i != 2 {
			impact := "covered"
			if i != 0 {
				impact = "unreachable"
			}
			invs = append(invs, InvalidRow{Unit: u.ID(), Time: at.UnixMilli(), Prefix: "192.0.2.0/24", Origin: &as1, Class: "wrong_origin", Impact: impact})
		} else {
			invs = append(invs, InvalidRow{Unit: u.ID(), Time: at.UnixMilli(), Prefix: "198.51.100.0/24", Class: "as_set", Impact: "unreachable"})
		}
		sum.Invalid = 1
		sum.Counts.Unreachable = int64(len(invs)) - map[bool]int64{true: 1, false: 0}[i == 0]
		if i == 3 {
			// The fourth unit is in the manifest but has no result.
			if err := writeParquet(UnitPath(dir, TableInvalids, u), invs); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := writeParquet(UnitPath(dir, TableInvalids, u), invs); err != nil {
			t.Fatal(err)
		}
		if err := writeParquet(UnitPath(dir, TableSummary, u), []SummaryRow{sum}); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := os.Create(dir + "/" + ManifestCopy)
	if err := WriteManifest(f, manifest); err != nil {
		t.Fatal(err)
	}
	f.Close()
	res, err := Merge(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Done != 3 || res.Missing != 1 || len(res.Timeline) != 3 {
		t.Fatalf("done %d, missing %d, timeline %d; want 3, 1, 3 (the unit without a summary is missing and its invalids ignored)", res.Done, res.Missing, len(res.Timeline))
	}
	if len(res.Persistence) != 2 {
		t.Fatalf("persistence: %+v, want 2 routes", res.Persistence)
	}
	a := res.Persistence[0] // most units seen first
	if a.Prefix != "192.0.2.0/24" || a.UnitsSeen != 2 || a.LongestRun != 2 || a.TimesTotal != 3 || a.Unreachable != 1 ||
		a.FirstSeen != t0.UnixMilli() || a.LastSeen != t0.Add(time.Hour).UnixMilli() || a.LastImpact != "unreachable" {
		t.Errorf("route A: %+v", a)
	}
	b := res.Persistence[1]
	if b.Origin != nil || b.UnitsSeen != 1 || b.LongestRun != 1 {
		t.Errorf("route B (AS_SET): %+v", b)
	}
	// Origins by unreachable route-seconds: AS1 unreachable at t1 (an
	// hour until t2); the AS_SET route at t2, the last time, counts the
	// hour before it.
	if len(res.Origins) != 2 || res.Origins[0].UnreachableSeconds != 3600 || res.Origins[1].UnreachableSeconds != 3600 ||
		res.Origins[0].Origin == nil || *res.Origins[0].Origin != 1 || res.Origins[0].InvalidUnits != 2 {
		t.Errorf("origins: %+v", res.Origins)
	}
}

func TestMergeFixture(t *testing.T) {
	units := fixtureUnits(t)
	out := t.TempDir()
	if _, err := Run(context.Background(), units, RunOptions{Out: out, Shard: All, Workers: 2}); !errors.Is(err, ErrUnitsFailed) {
		t.Fatal(err)
	}
	res, err := Merge(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Done != 8 || res.Failed != 1 || res.Missing != 0 || len(res.Timeline) != 8 {
		t.Fatalf("done %d failed %d missing %d timeline %d; want 8 1 0 8", res.Done, res.Failed, res.Missing, len(res.Timeline))
	}
	// The timeline's counts add up: states to routes, impacts to the
	// dropped, classes to the invalid (no AS_SET withdraw policy here).
	for _, r := range res.Timeline {
		if r.Valid+r.Invalid+r.NotFound != r.Routes || r.V4Routes+r.V6Routes != r.Routes ||
			r.SamePrefix+r.Covered+r.MoreSpecifics+r.Unreachable != r.Dropped ||
			r.TooSpecific+r.WrongOrigin+r.Both+r.TooShort+r.ASSet != r.Invalid {
			t.Errorf("timeline row does not add up: %+v", r)
		}
	}
	page, err := os.ReadFile(out + "/" + DirMerged + "/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 units failed or missing", "<b>route-views2</b>", "<b>rrc05</b>", "<polyline", res.Persistence[0].Prefix} {
		if !strings.Contains(string(page), want) {
			t.Errorf("merged/index.html lacks %q", want)
		}
	}
	var seen int64
	for _, p := range res.Persistence {
		seen += p.UnitsSeen
	}
	var invalid int64
	for _, r := range res.Timeline {
		invalid += r.Invalid
	}
	if seen != invalid {
		t.Errorf("persistence counts %d (route, time) pairs, the timeline %d invalid routes", seen, invalid)
	}
}

func TestMergeEmptyDir(t *testing.T) {
	if _, err := Merge(t.TempDir()); err == nil {
		t.Error("merge of a directory without results: no error")
	}
}
