package study

import (
	"bytes"
	"context"
	"github.com/rovimpact/rovimpact/internal/batchgc"
	"io"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// AnalysisOptions are the options that shape validation and impact.
type AnalysisOptions struct {
	ASSet        string // invalid, notfound or withdraw (classify.ParseASSetPolicy)
	LocalAS      uint32
	CountDefault bool
}

// Classify turns the options into classify's, checking the AS_SET policy.
func (o AnalysisOptions) Classify() (classify.Options, error) {
	pol, err := classify.ParseASSetPolicy(o.ASSet)
	if err != nil {
		return classify.Options{}, Usagef("--as-set: %v", err)
	}
	return classify.Options{ASSet: pol, LocalAS: o.LocalAS, Impact: classify.ImpactOptions{CountDefault: o.CountDefault}}, nil
}

// Policy is the report's statement of the options that decide verdicts.
func (o AnalysisOptions) Policy(copt classify.Options, peers []string) reports.Policy {
	return reports.Policy{ASSet: copt.ASSet.String(), CountDefault: o.CountDefault, LocalAS: o.LocalAS, PeerFilter: peers}
}

// Config is everything a study reads and how.
type Config struct {
	VRP      VRPOptions
	Route    RouteOptions
	Analysis AnalysisOptions
	// Routes are the route files (ROUTES); Route.Updates follow them.
	Routes []string
	Now    time.Time
	// Warn takes warnings and, when it is a terminal, progress lines.
	Warn io.Writer
}

// Inputs lists the study's input files by role.
func (c Config) Inputs() Inputs {
	return Inputs{VRPs: c.VRP.Files, SLURM: c.VRP.SLURM, Routes: c.Routes, Updates: c.Route.Updates}
}

// Study is what analyze and snapshot share: the analysis of the route files
// against the VRPs, the metadata a report or snapshot carries, and the
// source files as they were before being read.
type Study struct {
	Analysis *classify.Analysis
	Meta     reports.Meta
	Sources  []Source
	// Partial is the *PartialError to return once every report is
	// written (see PartialInput); nil for whole input.
	Partial error
}

// Run loads the VRPs (refusing an empty or stale set, see CheckVRPs), reads
// the route files (none: an empty table) and analyses them. Sources are
// recorded before they are read, so a file replaced while the analysis runs
// makes a snapshot look stale, not current. Run is for batch commands: it
// collects the heap once between the read and the analysis, keeping the
// heap goal through the analysis (batchgc.CollectKeepingGoal).
func Run(ctx context.Context, c Config) (Study, error) {
	copt, err := c.Analysis.Classify()
	if err != nil {
		return Study{}, err
	}
	sources := c.Inputs().Stat()
	var vrpSum reports.VRPSummary
	ix, r, err := loadBoth(ctx, c, func(warn io.Writer) (*rov.Index, error) {
		ix, sum, err := LoadVRPs(c.VRP, c.Now, warn)
		if err != nil {
			return nil, err
		}
		vrpSum = sum
		return ix, CheckVRPs(c.VRP, sum, warn)
	})
	if err != nil {
		return Study{}, err
	}
	// Collect once between the read and the analysis: the replay's path
	// sets, Finish's sort array and the VRP loader's buffers (~50 MB on a
	// full table) are garbage now, and without a cycle here the heap goal
	// set during the read lets classify and Build take fresh pages
	// instead. Pages touched for the first time are what a batch run pays
	// most for (the kernel zeroes each; bench/README.md, issue 14 session
	// 8): on the PCH table this cuts peak RSS from ~260 to ~200 MB for one
	// mark of the live heap (~30 ms CPU), with the next cycle no sooner
	// than the read had set it.
	restore := batchgc.CollectKeepingGoal()
	a := classify.Analyze(r.Table, ix, copt)
	restore()
	return Study{
		Partial:  PartialInput(r.Inputs, c.Route.AllowPartial, c.Warn),
		Analysis: a,
		Meta: reports.Meta{
			Policy:  c.Analysis.Policy(copt, c.Route.Peers),
			VRPs:    vrpSum,
			Inputs:  r.Inputs,
			Skipped: r.Skipped,
		},
		Sources: sources,
	}, nil
}

// Analyze is the analysis lookup answers from: the VRPs and route files
// read and validated as Run does, without Run's VRP guards (a lookup about
// an empty set answers "no VRP", which is true). The inputs carry what each
// route file lost; the caller decides (PartialInput) what that means.
func Analyze(ctx context.Context, c Config) (*classify.Analysis, []reports.Input, error) {
	copt, err := c.Analysis.Classify()
	if err != nil {
		return nil, nil, err
	}
	ix, r, err := loadBoth(ctx, c, func(warn io.Writer) (*rov.Index, error) {
		ix, _, err := LoadVRPs(c.VRP, c.Now, warn)
		return ix, err
	})
	if err != nil {
		return nil, nil, err
	}
	return classify.Analyze(r.Table, ix, copt), r.Inputs, nil
}

// loadBoth runs vrps (load, index and check the VRPs) and readAll at once:
// the two halves of the pipeline are independent until classification, and
// on two cores reading the routes hides most of the VRP load. The result is
// what running them one after the other gives: a VRP error wins over a
// route error whichever comes first (the route read is then cancelled, its
// work wasted), and the VRP side's warnings are held and written to c.Warn
// before anything after the read (the route side writes only its progress
// line there, and only on a terminal).
func loadBoth(ctx context.Context, c Config, vrps func(warn io.Writer) (*rov.Index, error)) (*rov.Index, Routes, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type routesResult struct {
		r   Routes
		err error
	}
	done := make(chan routesResult, 1)
	go func() {
		r, err := readAll(ctx, c)
		done <- routesResult{r, err}
	}()
	var warn io.Writer
	var held bytes.Buffer
	if c.Warn != nil {
		warn = &held
	}
	ix, verr := vrps(warn)
	if verr != nil {
		cancel()
	}
	rr := <-done
	if c.Warn != nil && held.Len() > 0 {
		c.Warn.Write(held.Bytes())
	}
	if verr != nil {
		return nil, Routes{}, verr
	}
	if rr.err != nil {
		return nil, Routes{}, rr.err
	}
	return ix, rr.r, nil
}

// readAll reads the config's route files, or gives an empty table when
// there are none.
func readAll(ctx context.Context, c Config) (Routes, error) {
	if len(c.Routes) == 0 && len(c.Route.Updates) == 0 {
		return Routes{Table: table.New()}, nil
	}
	return ReadRoutes(ctx, c.Routes, c.Route, NewProgress(c.Warn))
}

// VRPDiff compares two VRP sets (each loaded as LoadVRPs does, with opt's
// SLURM and expiry) and, given route files, lists the routes whose verdict
// differs between them. The error of a damaged route file is returned as
// the *PartialError in partial (nil with opt.AllowPartial), after the loss
// is written on warn.
func VRPDiff(ctx context.Context, a, b string, c Config) (d reports.VRPDiff, partial error, err error) {
	va, vb := c.VRP, c.VRP
	va.Files, vb.Files = []string{a}, []string{b}
	copt, err := c.Analysis.Classify()
	if err != nil {
		return d, nil, err
	}
	ixA, _, err := LoadVRPs(va, c.Now, c.Warn)
	if err != nil {
		return d, nil, err
	}
	ixB, _, err := LoadVRPs(vb, c.Now, c.Warn)
	if err != nil {
		return d, nil, err
	}
	d = reports.VRPDiff{From: a, To: b, FromLen: ixA.Len(), ToLen: ixB.Len()}
	d.OnlyA, d.OnlyB = reports.DiffVRPs(ixA.VRPs(), ixB.VRPs())
	if len(c.Routes) == 0 {
		return d, nil, nil
	}
	r, err := ReadRoutes(ctx, c.Routes, c.Route, NewProgress(c.Warn))
	if err != nil {
		return d, nil, err
	}
	partial = PartialInput(r.Inputs, c.Route.AllowPartial, c.Warn)
	n := r.Table.Len()
	d.Routes = &n
	d.Changed = reports.RouteChanges(classify.Analyze(r.Table, ixA, copt), classify.Analyze(r.Table, ixB, copt))
	return d, partial, nil
}
