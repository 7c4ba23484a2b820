package snapshot

import (
	"context"
	"fmt"
	"time"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study"
)

// CheckOptions refuses analysis options that differ from those the
// snapshot's verdicts were made under (its Meta.Policy): the answers would
// silently be the old policy's. given says whether the option's flag was
// set (an unset flag takes the snapshot's value); the error is a
// *study.UsageError naming the flag. name is the snapshot's file name.
func (s *Snapshot) CheckOptions(name string, o study.AnalysisOptions, given func(flag string) bool) error {
	pol := s.Meta.Policy
	for _, c := range []struct {
		flag      string
		got, want any
	}{
		{"as-set", o.ASSet, pol.ASSet},
		{"local-as", o.LocalAS, pol.LocalAS},
		{"count-default", o.CountDefault, pol.CountDefault},
	} {
		if given(c.flag) && c.got != c.want {
			return study.Usagef("--%s %v: the snapshot %s was made with --%s %v (write a new one with analyze --save)", c.flag, c.got, name, c.flag, c.want)
		}
	}
	return nil
}

// Warnings are what an answer from the snapshot must be read with: each
// source file that changed since it was made (the answers are as of then),
// and VRPs that had expired when it was made. name is the snapshot's file
// name.
func (s *Snapshot) Warnings(name string) []string {
	var out []string
	for _, src := range s.Sources {
		if c := src.Changed(); c != "" {
			out = append(out, fmt.Sprintf("snapshot %s: %s file %s changed since the snapshot was made (%s): answers are as of %s", name, src.Role, src.Name, c, s.Created.Format(time.RFC3339)))
		}
	}
	if v := s.Meta.VRPs; v.Expired > 0 {
		verb := "kept"
		if s.DropExpired {
			verb = "dropped"
		}
		out = append(out, fmt.Sprintf("snapshot %s: %d of %d VRPs had expired when it was made (%s): %s", name, v.Expired, v.Read, s.Created.Format(time.DateOnly), verb))
	}
	return out
}

// Fixes are the flags whose inputs a snapshot fixes (the VRPs and the
// routes): given with it they would be silently ignored, so Open refuses
// them.
var Fixes = []string{"vrps", "slurm", "drop-expired", "updates", "peer"}

// Open loads the snapshot name to answer from (Load), refusing what would
// contradict it: a given flag of Fixes, route files, options that differ
// from how it was made (CheckOptions). It returns the warnings its answers
// must be read with (Warnings). Refusals are *study.UsageError.
func Open(name string, o study.AnalysisOptions, given func(flag string) bool, routeFiles []string) (*Snapshot, []string, error) {
	return OpenFor(name, o, given, routeFiles, nil)
}

// OpenFor is Open for answering queries only (LoadFor): the Snapshot's
// analysis holds what they need and answers them as the whole would.
func OpenFor(name string, o study.AnalysisOptions, given func(flag string) bool, routeFiles []string, queries []reports.Query) (*Snapshot, []string, error) {
	for _, fl := range Fixes {
		if given(fl) {
			return nil, nil, study.Usagef("--%s cannot be used with the snapshot %s: it fixes the VRPs and routes (write a new one with analyze --save)", fl, name)
		}
	}
	if len(routeFiles) > 0 {
		return nil, nil, study.Usagef("route file %s cannot be used with the snapshot %s: it fixes the routes (write a new one with analyze --save)", routeFiles[0], name)
	}
	s, err := LoadFor(name, queries)
	if err != nil {
		return nil, nil, err
	}
	if err := s.CheckOptions(name, o, given); err != nil {
		return nil, nil, err
	}
	return s, s.Warnings(name), nil
}

// OpenOrAnalyze is the analysis a query front door (lookup) answers from:
// the snapshot snap, or the one route file of c when it is a snapshot and
// no VRP file is given, with Open's checks (warnings to c.Warn); else the
// VRP and route files of c read and validated as analyze does. A snapshot
// among several route files is a usage error. The inputs are the route
// files the analysis was made from (their losses make the answer partial).
// From a snapshot the analysis holds only what queries need (OpenFor): it
// answers them, byte for byte as the whole would, and nothing else.
func OpenOrAnalyze(ctx context.Context, snap string, c study.Config, given func(flag string) bool, queries []reports.Query) (*classify.Analysis, []reports.Input, error) {
	if snap == "" && len(c.VRP.Files) == 0 && len(c.Routes) == 1 && IsFile(c.Routes[0]) {
		snap, c.Routes = c.Routes[0], nil
	}
	if snap == "" {
		for _, f := range c.Routes {
			if IsFile(f) {
				return nil, nil, study.Usagef("%s is a snapshot: use it alone (lookup --snapshot %s QUERY...), without --vrps or route files", f, f)
			}
		}
		return study.Analyze(ctx, c)
	}
	if queries == nil {
		queries = []reports.Query{} // nil would mean every query
	}
	s, warnings, err := OpenFor(snap, c.Analysis, given, c.Routes, queries)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range warnings {
		fmt.Fprintf(c.Warn, "rovimpact: warning: %s\n", w)
	}
	return s.Analysis, s.Meta.Inputs, nil
}
