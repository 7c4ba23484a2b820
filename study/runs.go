package study

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/reports"
)

// ReadReport reads an analyze JSON report (any compression): one side of a
// diff.
func ReadReport(name string) (reports.Report, error) {
	var rep reports.Report
	f, err := compressed.Open(name)
	if err != nil {
		return rep, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	if err := dec.Decode(&rep); err != nil {
		return rep, fmt.Errorf("%s: at offset %d: not an analyze JSON report: %w", name, dec.InputOffset(), err)
	}
	if rep.Invalids == nil {
		return rep, fmt.Errorf("%s: not an analyze JSON report: no \"invalids\" list", name)
	}
	return rep, nil
}

// PartialRuns says on warn what each compared run lost (partial route
// files) or lacked (VRPs), since a diff against such a run shows invalids
// as new or resolved that did not change, and returns the *PartialError
// unless allow.
func PartialRuns(warn io.Writer, allow bool, reps []reports.Report, labels []string) error {
	n := 0
	for i, rep := range reps {
		for _, in := range rep.Summary.Inputs {
			if l := reports.LossOf(in); l != nil {
				n++
				fmt.Fprintf(warn, "rovimpact: partial input: %s: %s\n", labels[i], l.Describe(in.Name))
			}
		}
		if rep.Summary.VRPs.Loaded == 0 {
			fmt.Fprintf(warn, "rovimpact: warning: %s: no VRPs were loaded: every route was not_found, so its invalids are missing, not resolved\n", labels[i])
		}
	}
	if n == 0 || allow {
		return nil
	}
	return Partialf("%d route file(s) of the compared runs ended early or were corrupt: the diff compares partial tables (--allow-partial to accept that)", n)
}
