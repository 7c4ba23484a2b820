package archive

import (
	"testing"
	"time"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseName(t *testing.T) {
	tests := []struct {
		name, path string
		kind       Kind
		collector  string
		time       string
		pattern    string
	}{
		{"RIS bview in its rrc directory", "/data/ris/rrc00/2024.01/bview.20240101.0800.gz", KindRIB, "rrc00", "2024-01-01T08:00:00Z", "ris"},
		{"RIS updates", "rrc21/2016.08/updates.20160811.1600.gz", KindUpdates, "rrc21", "2016-08-11T16:00:00Z", "ris"},
		{"RouteViews Oregon (no collector directory)", "/mirror/bgpdata/2024.01/RIBS/rib.20240101.0600.bz2", KindRIB, "route-views2", "2024-01-01T06:00:00Z", "routeviews"},
		{"RouteViews other collector", "archive.routeviews.org/route-views.linx/bgpdata/2024.01/RIBS/rib.20240101.0000.bz2", KindRIB, "route-views.linx", "2024-01-01T00:00:00Z", "routeviews"},
		{"RouteViews route-views6", "route-views6/bgpdata/2015.11/RIBS/rib.20151101.0600.bz2", KindRIB, "route-views6", "2015-11-01T06:00:00Z", "routeviews"},
		{"RouteViews updates", "route-views.jinx/bgpdata/2015.04/UPDATES/updates.20150401.0000.bz2", KindUpdates, "route-views.jinx", "2015-04-01T00:00:00Z", "routeviews"},
		{"PCH updates", "route-collector.decix-ham.fra.pch.net/2019/01/01/route-collector.decix-ham.fra.pch.net-mrt-bgp-updates-2019-01-01-00-05.gz", KindUpdates, "route-collector.decix-ham.fra.pch.net", "2019-01-01T00:05:00Z", "pch"},
		{"shared data: tagged RouteViews RIB", "../shared/data/mrt/rib.20140523.0600.route-views2.first1MB-truncated.bz2", KindRIB, "route-views2", "2014-05-23T06:00:00Z", "tagged"},
		{"shared data: tagged rib6", "rib6.20151101.0600.route-views6.first1MB-truncated.bz2", KindRIB, "route-views6", "2015-11-01T06:00:00Z", "tagged"},
		{"shared data: tagged RIS bview", "bview.20020722.2337.ris-rrc05.table_dump_v1.gz", KindRIB, "rrc05", "2002-07-22T23:37:00Z", "tagged"},
		{"shared data: tagged RouteViews site", "updates.20150401.0000.route-views.jinx.bz2", KindUpdates, "route-views.jinx", "2015-04-01T00:00:00Z", "tagged"},
		{"shared data: tagged PCH", "updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz", KindUpdates, "pch-route-collector", "2015-10-23T02:01:00Z", "tagged"},
		{"uncompressed RIB, collector unknown from the name", "/tmp/x/rib.20250720.1000", KindRIB, "", "2025-07-20T10:00:00Z", "routeviews"},
		{"rpki-client JSON", "vrps.rpki-client.20250720T100143Z.json.bz2", KindVRPs, "", "", ""},
		{"RIPE archive roas.csv", "ripencc/2024/01/01/roas.csv", KindVRPs, "", "", ""},
		{"impossible date is not a name match", "rib.20241301.0000.bz2", KindUnknown, "", "", ""},
		{"a date before 1970 no MRT timestamp can carry (RFC 6396 §2; found by FuzzParseName)", "rib.00010101.0000", KindUnknown, "", "", ""},
		{"PCH name in 1969", "c-mrt-bgp-updates-1969-12-31-23-59.gz", KindUnknown, "", "", ""},
		{"unknown", "dump.mrt", KindUnknown, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseName(tc.path)
			var want time.Time
			if tc.time != "" {
				want = ts(tc.time)
			}
			if got.Kind != tc.kind || got.Collector != tc.collector || !got.Time.Equal(want) || got.Pattern != tc.pattern {
				t.Errorf("ParseName(%q) = %v %q %v %q, want %v %q %v %q", tc.path, got.Kind, got.Collector, got.Time, got.Pattern, tc.kind, tc.collector, want, tc.pattern)
			}
		})
	}
}

func TestPairVRPs(t *testing.T) {
	vrps := []File{
		{Path: "a", Time: ts("2025-07-19T10:00:00Z")},
		{Path: "b", Time: ts("2025-07-20T09:31:33Z")},
		{Path: "c1", Time: ts("2025-07-20T10:01:43Z")},
		{Path: "c2", Time: ts("2025-07-20T10:01:43Z")},
	}
	day := 24 * time.Hour
	tests := []struct {
		name   string
		at     string
		maxAge time.Duration
		want   string // path, or "" for skipped
	}{
		{"before every set: skipped (a later set knows ROAs that did not exist)", "2025-07-19T09:59:59Z", day, ""},
		{"exactly at a build time: that set", "2025-07-19T10:00:00Z", day, "a"},
		{"between sets: the newest before", "2025-07-20T10:00:00Z", day, "b"},
		{"a set built one second later is not used", "2025-07-20T10:01:42Z", day, "b"},
		{"same build second: last path wins", "2025-07-20T12:00:00Z", day, "c2"},
		{"within max age", "2025-07-21T10:01:43Z", day, "c2"},
		{"one second past max age: skipped", "2025-07-21T10:01:44Z", day, ""},
		{"max age 0: any age", "2030-01-01T00:00:00Z", 0, "c2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := PairVRPs(vrps, ts(tc.at), tc.maxAge)
			if got.Path != tc.want || (tc.want == "") != (reason != "") {
				t.Errorf("PairVRPs(%s, %s) = %q (reason %q), want %q", tc.at, tc.maxAge, got.Path, reason, tc.want)
			}
		})
	}
	if _, reason := PairVRPs(nil, ts("2025-07-20T10:00:00Z"), day); reason == "" {
		t.Error("no VRP files: want a reason")
	}
}

func TestPlan(t *testing.T) {
	rib := func(c, at string) File {
		return File{Path: c + "/rib." + at, Kind: KindRIB, Collector: c, Time: ts(at), TimeFrom: "name"}
	}
	files := []File{
		rib("rrc00", "2025-07-20T08:00:00Z"),
		rib("rrc00", "2025-07-20T16:00:00Z"),
		rib("rrc01", "2025-07-19T08:00:00Z"), // before every VRP set
		{Path: "rrc00/updates.1", Kind: KindUpdates, Collector: "rrc00", Time: ts("2025-07-20T08:05:00Z")},
		{Path: "rrc00/updates.2", Kind: KindUpdates, Collector: "rrc00", Time: ts("2025-07-20T09:00:00Z")}, // outside the window
		{Path: "rrc01/updates.1", Kind: KindUpdates, Collector: "rrc01", Time: ts("2025-07-20T08:05:00Z")}, // other collector
		{Path: "v1.json", Kind: KindVRPs, Time: ts("2025-07-20T07:00:00Z"), TimeFrom: "metadata"},
		{Path: "v2.json", Kind: KindVRPs, Time: ts("2025-07-20T15:00:00Z"), TimeFrom: "file_mtime"},
		{Path: "junk", Kind: KindUnknown},
	}
	units := Plan(files, PlanOptions{MaxVRPAge: 24 * time.Hour, UpdatesWindow: time.Hour})
	var run, skip []Unit
	for _, u := range units {
		if u.Runnable() {
			run = append(run, u)
		} else {
			skip = append(skip, u)
		}
	}
	if len(run) != 2 || len(skip) != 4 {
		t.Fatalf("got %d units and %d skipped, want 2 and 4: %+v", len(run), len(skip), units)
	}
	if run[0].VRPs != "v1.json" || run[0].VRPAge != 3600 || len(run[0].Updates) != 1 || run[0].Updates[0] != "rrc00/updates.1" {
		t.Errorf("unit 0 = %+v, want v1.json, 1 h old, updates.1 attached", run[0])
	}
	if run[1].VRPs != "v2.json" || run[1].VRPBuiltFrom != "file_mtime" || len(run[1].Updates) != 0 {
		t.Errorf("unit 1 = %+v, want v2.json (file_mtime), no updates", run[1])
	}
	if run[0].ID() == run[1].ID() {
		t.Error("two units share an ID")
	}
	for _, u := range skip {
		if u.Skip == "" {
			t.Errorf("skipped line without reason: %+v", u)
		}
	}
}
