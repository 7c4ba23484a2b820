// Package archive turns years of route collector archives into per-unit
// impact studies and merges them: a plan pairs each collector's RIB at time
// T with the VRP set in force at T, run studies units (in a local worker
// pool or one shard of a Slurm array or Kubernetes Indexed Job) into
// Hive-partitioned Parquet, merge reduces the units to timelines. See
// docs/archive.md for the layout and the file-name patterns.
package archive

import (
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Kind is what an archive file holds.
type Kind uint8

const (
	KindUnknown Kind = iota
	KindRIB          // a RIB dump (TABLE_DUMP, TABLE_DUMP_V2)
	KindUpdates      // BGP4MP updates
	KindVRPs         // a validator export (JSON or CSV)
)

var kindNames = [...]string{"unknown", "rib", "updates", "vrps"}

func (k Kind) String() string { return kindNames[k] }

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// NameInfo is what a file's path says about it.
type NameInfo struct {
	Kind      Kind
	Collector string    // "" when the path does not say
	Time      time.Time // zero when the name does not say
	// Pattern names the rule that matched ("ris", "routeviews", "pch",
	// "tagged"), for the plan's provenance.
	Pattern string
}

// compression suffixes stripped before matching: the archives use .gz
// (RIS, PCH) and .bz2 (RouteViews); .xz and plain files are accepted too.
var compSuffix = regexp.MustCompile(`\.(gz|bz2|xz|zst)$`)

var (
	// kind.YYYYMMDD.HHMM[.tag...]: RIS (bview, updates), RouteViews (rib,
	// updates), and the shared data's own convention that appends a
	// collector tag (rib.20140523.0600.route-views2.first1MB-truncated).
	dottedName = regexp.MustCompile(`^(bview|rib|rib6|updates)\.(\d{8})\.(\d{4})(?:\.(.*))?$`)
	// PCH: <collector>-mrt-bgp-updates-YYYY-MM-DD-HH-MM, e.g.
	// route-collector.decix-ham.fra.pch.net-mrt-bgp-updates-2019-01-01-00-00.gz
	pchName = regexp.MustCompile(`^(.+)-mrt-bgp-(updates|rib)-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$`)
	risDir  = regexp.MustCompile(`^rrc\d\d$`)
	// A tag after the time in the shared data's names.
	risTag = regexp.MustCompile(`^ris-(rrc\d\d)\b`)
	rvTag  = regexp.MustCompile(`^(route-views(?:\d+|\.[a-z0-9-]+)?)`)
	pchTag = regexp.MustCompile(`^pch-([a-z0-9-]+)`)
	// VRP exports: by extension, or a name that says so.
	vrpName = regexp.MustCompile(`(?i)(\.json|\.csv)$|(^|[._-])(vrps?|roas)([._-]|$)`)
)

// ParseName reads kind, collector and time from an archive path. It knows:
//
//   - RIPE RIS: rrcNN/YYYY.MM/bview.YYYYMMDD.HHMM.gz and updates.…; the
//     collector is the rrcNN directory.
//   - RouteViews: <collector>/bgpdata/YYYY.MM/RIBS/rib.YYYYMMDD.HHMM.bz2 and
//     …/UPDATES/updates.…; the collector is the directory before bgpdata
//     when it is a route-views name, else route-views2 (the Oregon
//     collector's archive has no collector directory).
//   - PCH: <collector>-mrt-bgp-updates-YYYY-MM-DD-HH-MM.gz.
//   - The shared data's tagged names: kind.YYYYMMDD.HHMM.<tag>[.note].ext
//     where tag is ris-rrcNN, route-views…, or pch-<name>.
//
// Times in names are UTC. A VRP file is recognised by its name (.json,
// .csv, or a vrps/roas word); anything else is Kind unknown, to be told
// from its content (see Classify).
func ParseName(path string) NameInfo {
	slashed := filepath.ToSlash(path)
	base := compSuffix.ReplaceAllString(pathBase(slashed), "")
	dirs := strings.Split(pathDir(slashed), "/")
	if m := dottedName.FindStringSubmatch(base); m != nil {
		t, ok := nameTime("20060102 1504", m[2]+" "+m[3])
		if !ok {
			return NameInfo{}
		}
		info := NameInfo{Kind: KindUpdates, Time: t}
		if m[1] != "updates" {
			info.Kind = KindRIB
		}
		if m[4] != "" {
			if c, pat := collectorFromTag(m[4]); c != "" {
				info.Collector, info.Pattern = c, pat
				return info
			}
		}
		switch {
		case m[1] == "bview":
			info.Pattern = "ris"
		case m[1] == "rib" || m[1] == "rib6":
			info.Pattern = "routeviews"
		}
		for i := len(dirs) - 1; i >= 0; i-- {
			if risDir.MatchString(dirs[i]) {
				info.Collector, info.Pattern = dirs[i], "ris"
				return info
			}
			if dirs[i] == "bgpdata" {
				info.Collector, info.Pattern = "route-views2", "routeviews"
				if i > 0 && strings.HasPrefix(dirs[i-1], "route-views") {
					info.Collector = dirs[i-1]
				}
				return info
			}
		}
		return info
	}
	if m := pchName.FindStringSubmatch(base); m != nil {
		t, ok := nameTime("2006-01-02-15-04", strings.Join(m[3:8], "-"))
		if !ok {
			return NameInfo{}
		}
		k := KindUpdates
		if m[2] == "rib" {
			k = KindRIB
		}
		return NameInfo{Kind: k, Collector: m[1], Time: t, Pattern: "pch"}
	}
	if vrpName.MatchString(base) {
		return NameInfo{Kind: KindVRPs}
	}
	return NameInfo{}
}

// nameTime reads the time in a file name, and refuses one an MRT file
// cannot carry: RFC 6396 §2 "Timestamp: A 4-octet field whose value is
// the number of seconds elapsed since midnight 1 January 1970 (UTC)" puts
// every dump between 1970 and 2106, so "rib.00010101.0000" names no dump
// (and its year-1 time would read as "no time").
func nameTime(layout, s string) (time.Time, bool) {
	t, err := time.Parse(layout, s)
	if err != nil || t.Unix() < 0 || t.Unix() > math.MaxUint32 {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func collectorFromTag(tag string) (string, string) {
	if m := risTag.FindStringSubmatch(tag); m != nil {
		return m[1], "tagged"
	}
	if m := rvTag.FindStringSubmatch(tag); m != nil {
		return m[1], "tagged"
	}
	if m := pchTag.FindStringSubmatch(tag); m != nil {
		return "pch-" + m[1], "tagged"
	}
	return "", ""
}

func pathBase(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func pathDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}
