package archive

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseName: any path gives a consistent answer: an MRT kind from the
// name has a UTC time; a collector never holds a path separator.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{
		"rrc00/2024.01/bview.20240101.0800.gz",
		"route-views.linx/bgpdata/2024.01/RIBS/rib.20240101.0000.bz2",
		"bgpdata/2024.01/UPDATES/updates.20240101.0015.bz2",
		"route-collector.decix-ham.fra.pch.net-mrt-bgp-updates-2019-01-01-00-05.gz",
		"rib.20140523.0600.route-views2.first1MB-truncated.bz2",
		"updates.20151023.0201.pch-route-collector.as3856-fulltable.bgp4mp_et.gz",
		"vrps.rpki-client.20250720T100143Z.json.bz2",
		"rib.20241301.0000.bz2", "rib.2024010.0000", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		info := ParseName(path)
		if (info.Kind == KindRIB || info.Kind == KindUpdates) && (info.Time.IsZero() || info.Time.Location().String() != "UTC") {
			t.Errorf("ParseName(%q) = %+v: an MRT kind from the name without a UTC time", path, info)
		}
		if strings.ContainsAny(info.Collector, "/") {
			t.Errorf("ParseName(%q): collector %q holds a separator", path, info.Collector)
		}
		if info.Kind == KindVRPs && (!info.Time.IsZero() || info.Collector != "") {
			t.Errorf("ParseName(%q) = %+v: a VRP file's time comes from its content", path, info)
		}
	})
}

// FuzzReadManifest: a manifest either fails with an error or yields lines
// that are units or say why not, and writing them back reads the same.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(`{"collector":"rrc00","time":"2025-07-20T08:00:00Z","rib":"/r","vrps":"/v","vrp_age_s":5}` + "\n# comment\n\n"))
	f.Add([]byte(`{"file":"/x","skip":"not an MRT or VRP file"}`))
	f.Add([]byte(`{"collector":"c","rib":"/r"}`))
	f.Add([]byte(`{"bogus":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		units, err := ReadManifest(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		for _, u := range units {
			if !u.Runnable() && u.Skip == "" {
				t.Fatalf("line neither runnable nor skipped: %+v", u)
			}
		}
		var b bytes.Buffer
		if err := WriteManifest(&b, units); err != nil {
			t.Fatal(err)
		}
		again, err := ReadManifest(&b, "again")
		if err != nil {
			t.Fatalf("written manifest does not read back: %v", err)
		}
		for i := range units {
			if units[i].ID() != again[i].ID() || !reflect.DeepEqual(units[i].Updates, again[i].Updates) && len(units[i].Updates) > 0 {
				t.Fatalf("line %d changed in a round trip: %+v -> %+v", i, units[i], again[i])
			}
		}
	})
}
