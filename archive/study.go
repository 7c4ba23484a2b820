package archive

// The one adapter between archive and the study pipeline that analyze runs
// (package study: VRP loading with its summary, route reading with losses
// stated, the analysis options); nothing else in archive reads inputs.

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/routefile"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/study"
)

// vrpSet is one VRP file loaded and indexed, shared read-only by the units
// that use it.
type vrpSet struct {
	ix  *rov.Index
	sum reports.VRPSummary
	// aspas are the file's ASPAs (rpki-client or Routinator JSON
	// "aspas"), read in the same pass, for RunOptions.ASPA.
	aspas []study.ASPAFile
}

// loadVRPSet loads a VRP file as analyze --vrps FILE does (expired VRPs
// kept and counted, no SLURM), through study.LoadVRPs, so the summary and
// its build time (the exporter's metadata, else the file's modification
// time) are the ones analyze states. AgeSeconds is left for the unit to set
// against its own time.
func loadVRPSet(path string) (*vrpSet, error) {
	var aspas []study.ASPAFile
	ix, sum, err := study.LoadVRPs(study.VRPOptions{Files: []string{path}, ASPAs: &aspas}, time.Time{}, nil)
	if err != nil {
		return nil, err
	}
	sum.AgeSeconds = 0
	return &vrpSet{ix: ix, sum: sum, aspas: aspas}, nil
}

// hasASPAs reports whether the set's file held any ASPA.
func (s *vrpSet) hasASPAs() bool {
	for _, f := range s.aspas {
		if len(f.ASPAs) > 0 {
			return true
		}
	}
	return false
}

// vrpBuildTime is a VRP file's build time for planning: the loader's
// metadata (rov.LoadStats.BuildTime, so the file is read by the one
// loader, not re-parsed here), else the modification time.
func vrpBuildTime(path string) (time.Time, string, error) {
	f, err := compressed.Open(path)
	if err != nil {
		return time.Time{}, "", err
	}
	defer f.Close()
	_, st, err := rov.LoadVRPs(f, path, rov.LoadOptions{})
	if err != nil {
		return time.Time{}, "", err
	}
	return buildTimeOf(path, st.BuildTime)
}

func buildTimeOf(path string, meta time.Time) (time.Time, string, error) {
	if !meta.IsZero() {
		return meta.UTC(), "metadata", nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}, "", err
	}
	return fi.ModTime().UTC().Truncate(time.Second), "file_mtime", nil
}

// unitResult is a unit's study: the report analyze would write with
// --per-peer, and the damage of its inputs.
type unitResult struct {
	report  reports.Report
	damaged []reports.Input // inputs with a Loss
	// aspa is the unit's ASPA report (RunOptions.ASPA and a VRP file
	// with ASPAs); nil otherwise.
	aspa *reports.ASPAReport
}

// studyUnit reads the unit's RIB and updates into a table in the order
// given (table.IngestOptions.ReplayAll when there is more than one file,
// as analyze does) and analyses it against set with analyze's default
// policy (AS_SET routes invalid, the default route not a cover). The
// VRP set's age is taken at the unit's time, not the wall clock.
func studyUnit(ctx context.Context, u Unit, set *vrpSet, withASPA bool) (unitResult, error) {
	var res unitResult
	// Losses are kept in the unit's rows (and its failed record), not
	// turned into an error here: the run decides what partial input means.
	routes, err := study.ReadRoutes(ctx, append([]string{u.RIB}, u.Updates...), study.RouteOptions{AllowPartial: true}, nil)
	if err != nil {
		return res, err
	}
	for _, input := range routes.Inputs {
		if input.Loss != nil {
			res.damaged = append(res.damaged, input)
		}
	}
	aopt := study.AnalysisOptions{ASSet: "invalid"} // analyze's defaults
	opt, err := aopt.Classify()
	if err != nil {
		return res, err
	}
	sum := set.sum
	if sum.BuildTime != nil && u.Time != nil {
		sum.AgeSeconds = int64(u.Time.Sub(*sum.BuildTime) / time.Second)
	}
	a := classify.Analyze(routes.Table, set.ix, opt)
	res.report = reports.Build(a, reports.Meta{
		Policy:  aopt.Policy(opt, nil),
		VRPs:    sum,
		Inputs:  routes.Inputs,
		Skipped: routes.Skipped,
		PerPeer: true,
	})
	if withASPA && set.hasASPAs() {
		// As rovimpact aspa verifies them (every peer a peer, upstream,
		// unless inferred iBGP), expiry judged at the unit's time; the
		// route files' losses are already in the unit's report.
		c := study.Config{Routes: []string{u.RIB}, Route: study.RouteOptions{Updates: u.Updates, AllowPartial: true},
			Analysis: aopt, Now: *u.Time, Warn: io.Discard}
		roles, err := study.ParseRoles(nil, "")
		if err != nil {
			return res, err
		}
		ast, err := study.VerifyASPA(ctx, c, set.ix, sum, set.aspas, roles)
		if err != nil {
			return res, fmt.Errorf("ASPA: %w", err)
		}
		res.aspa = &ast.Report
	}
	return res, nil
}

// sniff tells a file's kind and first record time from its content, for
// files whose names do not say: '{' starts a JSON VRP export; otherwise the
// first route event of the MRT (or bgpdump text) decides: a RIB entry or an
// update.
func sniff(path string) (Kind, time.Time, error) {
	f, err := compressed.Open(path)
	if err != nil {
		return KindUnknown, time.Time{}, err
	}
	defer f.Close()
	var head [512]byte
	n, _ := io.ReadFull(f, head[:])
	for _, c := range head[:n] {
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		if c == '{' {
			return KindVRPs, time.Time{}, nil
		}
		break
	}
	g, err := compressed.Open(path)
	if err != nil {
		return KindUnknown, time.Time{}, err
	}
	defer g.Close()
	src, err := routefile.NewSource(g, path)
	if err != nil {
		return KindUnknown, time.Time{}, err
	}
	// Bounded: a file of records without routes is not a RIB or updates.
	for i := 0; i < 1<<20 && src.Next(); i++ {
		r := src.Route()
		if r.Time.IsZero() {
			continue
		}
		if r.FromUpdate {
			return KindUpdates, r.Time.UTC(), nil
		}
		return KindRIB, r.Time.UTC(), nil
	}
	if err := src.Err(); err != nil {
		return KindUnknown, time.Time{}, fmt.Errorf("no route event before: %w", err)
	}
	return KindUnknown, time.Time{}, fmt.Errorf("%s: no route event in the first records: not a RIB or updates file", path)
}
