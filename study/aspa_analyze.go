package study

import (
	"context"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/reports"
)

// AnalyzeASPAStep is analyze --aspa from its flags to the report: Prepare
// before Run (checks the flags, and has Run's VRP read keep the files'
// ASPAs), Attach after the ROV report and snapshot are made (AnalyzeASPA,
// which needs only the VRP index, so Run's table is let go first).
type AnalyzeASPAStep struct {
	On    bool     // --aspa
	Roles []string // --peer-role
	roles classify.RoleMap
	files []ASPAFile
}

// Prepare checks the flags and, when --aspa is on, points c.VRP.ASPAs at
// the step's own list.
func (s *AnalyzeASPAStep) Prepare(c *Config) error {
	if len(s.Roles) > 0 && !s.On {
		return exitcode.Usagef("--peer-role goes with --aspa")
	}
	roles, err := ParseRoles(s.Roles, "")
	if err != nil {
		return err
	}
	s.roles = roles
	if s.On {
		c.VRP.ASPAs = &s.files
	}
	return nil
}

// Attach verifies st's routes against the ASPAs (nil, nil when --aspa is
// off), releasing st.Analysis, and adds the ASPA summary and invalid paths
// to rep.
func (s *AnalyzeASPAStep) Attach(ctx context.Context, c Config, st *Study, rep *reports.Report) (*reports.ASPAReport, error) {
	if !s.On {
		return nil, nil
	}
	ix := st.Analysis.Index
	st.Analysis = nil
	r, err := AnalyzeASPA(ctx, c, ix, st.Meta.VRPs, s.roles)
	if err != nil {
		return nil, err
	}
	rep.Summary.ASPA, rep.ASPAPaths = &r.Summary.ASPA, r.InvalidPaths
	return &r, nil
}

// CheckASPAArgs checks aspa's arguments: --path (path) verifies one AS
// path and takes no ROUTES and no --peer; without it ROUTES are needed
// and --neighbor is not.
func CheckASPAArgs(path bool, routes []string, opt RouteOptions, neighbor string) error {
	switch {
	case path && len(routes) > 0:
		return Usagef("--path verifies one AS path: give no ROUTES (got %d)", len(routes))
	case path && len(opt.Peers) > 0:
		return Usagef("--peer goes with ROUTES, not --path (use --neighbor)")
	case path && len(opt.Updates) > 0:
		return Usagef("--updates goes with ROUTES, not --path")
	case !path && len(routes) == 0:
		return Usagef("aspa needs ROUTES (or --path)")
	case !path && neighbor != "":
		return Usagef("--neighbor goes with --path")
	}
	return nil
}
