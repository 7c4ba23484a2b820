package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/progress"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/snapshot"
	"github.com/rovimpact/rovimpact/table"
)

// vrpOptions are the flags every command that loads VRPs shares.
type vrpOptions struct {
	files       []string
	slurm       []string
	dropExpired bool
}

// loadVRPs reads, merges and SLURM-filters the VRP files and builds the
// index: the VRP half of the shared pipeline (../shared/DESIGN.md).
func loadVRPs(opt vrpOptions, now time.Time, warn io.Writer) (*rov.Index, reports.VRPSummary, error) {
	sum := reports.VRPSummary{ByTA: map[string]int{}, Files: opt.files}
	if len(opt.files) == 0 {
		return nil, sum, usageError("--vrps FILE is required")
	}
	var sets [][]rov.VRP
	for _, name := range opt.files {
		vrps, st, err := loadVRPFile(name, rov.LoadOptions{Now: now, DropExpired: opt.dropExpired})
		if err != nil {
			return nil, sum, err
		}
		sum.Read += st.Read
		sum.Duplicates += st.Duplicates
		sum.Expired += st.Expired
		sum.DroppedExpired += st.DroppedExpired
		if st.Expired > 0 && warn != nil {
			verb := "kept (use --drop-expired to drop them)"
			if opt.dropExpired {
				verb = "dropped"
			}
			fmt.Fprintf(warn, "rovimpact: warning: %s: %d of %d VRPs expired before %s: %s\n", name, st.Expired, st.Read, now.UTC().Format(time.DateOnly), verb)
		}
		sets = append(sets, vrps)
	}
	vrps := rov.MergeVRPs(sets...)
	if len(opt.slurm) > 0 {
		var files []*rov.SLURM
		for _, name := range opt.slurm {
			s, err := loadSLURMFile(name)
			if err != nil {
				return nil, sum, err
			}
			files = append(files, s)
		}
		merged, err := rov.MergeSLURM(files...)
		if err != nil {
			return nil, sum, err
		}
		var st rov.SLURMStats
		vrps, st = merged.Apply(vrps)
		sum.SLURMRemoved, sum.SLURMAdded = st.Removed, st.Added
		if st.BGPsecIgnored > 0 && warn != nil {
			fmt.Fprintf(warn, "rovimpact: note: %d SLURM BGPsec entries ignored (rovimpact validates origins only)\n", st.BGPsecIgnored)
		}
	}
	for _, v := range vrps {
		if v.Prefix.Addr().Is4() {
			sum.IPv4++
		} else {
			sum.IPv6++
		}
		if v.ASN == 0 {
			sum.AS0++
		}
		sum.ByTA[v.TA]++
	}
	sum.Loaded = len(vrps)
	return rov.NewIndex(vrps), sum, nil
}

func loadVRPFile(name string, opt rov.LoadOptions) ([]rov.VRP, rov.LoadStats, error) {
	f, err := compressed.Open(name)
	if err != nil {
		return nil, rov.LoadStats{}, err
	}
	defer f.Close()
	return rov.LoadVRPs(f, name, opt)
}

func loadSLURMFile(name string) (*rov.SLURM, error) {
	f, err := compressed.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return rov.LoadSLURM(f, name)
}

// routeOptions are the flags every command that reads routes shares.
type routeOptions struct {
	updates []string
	peers   []string
}

// parsePeers turns --peer values (an AS number, "AS64500", or an IP) into
// matches.
func parsePeers(vals []string) ([]table.PeerMatch, error) {
	var out []table.PeerMatch
	for _, v := range vals {
		if ip, err := netip.ParseAddr(v); err == nil {
			out = append(out, table.PeerMatch{IP: ip})
			continue
		}
		n, err := rov.ParseASN(v)
		if err != nil || n == 0 {
			return nil, usageError("--peer %q: want an AS number (64500, AS64500 or as64500) or an IP address", v)
		}
		out = append(out, table.PeerMatch{AS: n})
	}
	return out, nil
}

// readRoutes fills a table from route files (MRT or text, any compression):
// the route half of the shared pipeline. A truncated file is reported in its
// Input row and does not stop the study: every complete record was used.
func readRoutes(ctx context.Context, files []string, opt routeOptions, prog progressFunc) (*table.Table, []reports.Input, map[string]int64, error) {
	peers, err := parsePeers(opt.peers)
	if err != nil {
		return nil, nil, nil, err
	}
	t := table.New()
	in := table.NewIngester(t, table.IngestOptions{Peers: peers, ReplayAll: len(opt.updates) > 0})
	var inputs []reports.Input
	for _, name := range append(append([]string(nil), files...), opt.updates...) {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, err
		}
		input, err := readRouteFile(in, name, prog)
		if err != nil {
			return nil, nil, nil, err
		}
		inputs = append(inputs, input)
	}
	in.Finish()
	if err := checkPeerFilter(opt.peers, in); err != nil {
		return nil, nil, nil, err
	}
	return t, inputs, in.Skipped, nil
}

func readRouteFile(in *table.Ingester, name string, prog progressFunc) (reports.Input, error) {
	f, err := compressed.Open(name)
	if err != nil {
		return reports.Input{}, err
	}
	defer f.Close()
	src, err := mrt.NewSource(f, name)
	if err != nil {
		return reports.Input{}, err
	}
	stop := prog(name, f, in)
	rerr := in.Read(src)
	stop()
	st := src.Stats()
	input := reports.Input{Name: name, Records: st.Records, Routes: st.Routes, Skipped: st.Skipped}
	if rerr != nil {
		if !errors.Is(rerr, io.ErrUnexpectedEOF) {
			return input, rerr
		}
		input.Error = rerr.Error()
	}
	return input, nil
}

// analysisOptions are the flags that shape validation and impact.
type analysisOptions struct {
	asSet        string
	localAS      uint32
	countDefault bool
}

func (o analysisOptions) classify() (classify.Options, error) {
	pol, err := classify.ParseASSetPolicy(o.asSet)
	if err != nil {
		return classify.Options{}, usageError("--as-set: %v", err)
	}
	return classify.Options{ASSet: pol, LocalAS: o.localAS, Impact: classify.ImpactOptions{CountDefault: o.countDefault}}, nil
}

// progressFunc starts a progress line for one input file and returns the
// function that ends it.
type progressFunc func(name string, f *compressed.File, in *table.Ingester) (stop func())

// newProgress reports progress on w only when w is a terminal: an operator
// watching a full table load sees it move; cron's mail stays clean.
func newProgress(w io.Writer) progressFunc {
	enabled := false
	if f, ok := w.(*os.File); ok {
		enabled = progress.IsTerminal(f)
	}
	return func(name string, f *compressed.File, in *table.Ingester) func() {
		return progress.Start(w, enabled, filepath.Base(name), "routes", func() progress.Sample {
			return progress.Sample{Done: f.Pos(), Total: f.Size(), Items: in.Events()}
		})
	}
}

// study is what analyze and snapshot share: the analysis of the route files
// against the VRPs, the metadata a report or snapshot carries, and the
// source files as they were before being read.
type study struct {
	analysis *classify.Analysis
	meta     reports.Meta
	sources  []snapshot.Source
}

// runStudy loads the VRPs, reads the route files (none: an empty table) and
// analyses them. Sources are recorded before they are read, so a file
// replaced while the analysis runs makes a snapshot look stale, not current.
func runStudy(ctx context.Context, vrp vrpOptions, route routeOptions, analysis analysisOptions, files []string, now time.Time, stderr io.Writer) (study, error) {
	copt, err := analysis.classify()
	if err != nil {
		return study{}, err
	}
	sources := snapshotSources(vrp, files, route)
	ix, vrpSum, err := loadVRPs(vrp, now, stderr)
	if err != nil {
		return study{}, err
	}
	t := table.New()
	var inputs []reports.Input
	var skipped map[string]int64
	if len(files) > 0 || len(route.updates) > 0 {
		if t, inputs, skipped, err = readRoutes(ctx, files, route, newProgress(stderr)); err != nil {
			return study{}, err
		}
	}
	return study{
		analysis: classify.Analyze(t, ix, copt),
		meta: reports.Meta{
			Policy:  analysis.policy(copt, route.peers),
			VRPs:    vrpSum,
			Inputs:  inputs,
			Skipped: skipped,
		},
		sources: sources,
	}, nil
}

// policy is the report's statement of the options that decide verdicts.
func (o analysisOptions) policy(copt classify.Options, peers []string) reports.Policy {
	return reports.Policy{ASSet: copt.ASSet.String(), CountDefault: o.countDefault, LocalAS: o.localAS, PeerFilter: peers}
}
