package study

import (
	"strings"

	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// ASPAPathQuery is `rovimpact aspa --path`: one AS path, where it came
// from, and the --peer-role values that say what that neighbour is.
type ASPAPathQuery struct {
	Path      string   // "AS3 AS2 AS1", most recently added first
	Neighbor  string   // the neighbour AS; "" for the path's first AS
	Roles     []string // --peer-role: AS|IP=ROLE, or a bare ROLE for the neighbour
	RolesFile string
}

// VerifyASPAPath parses q and verifies its path against set with rov's
// procedure, returning the hop-by-hop report. Errors are usage errors
// (exit 2): they are all in what the user typed.
func VerifyASPAPath(set *rov.ASPASet, q ASPAPathQuery) (reports.ASPAPathReport, error) {
	path, err := rov.ParseASPathText(q.Path)
	if err != nil {
		return reports.ASPAPathReport{}, Usagef("--path: %v", err)
	}
	var neighbor uint32
	switch {
	case q.Neighbor != "":
		neighbor, err = rov.ParseASN(q.Neighbor)
		if err != nil {
			return reports.ASPAPathReport{}, Usagef("--neighbor %q: %v", q.Neighbor, err)
		}
	case len(path) > 0 && path[0].Type == rov.ASSequence:
		neighbor = path[0].ASNs[0]
	default:
		return reports.ASPAPathReport{}, Usagef("--path %q does not start with an AS: give --neighbor", q.Path)
	}
	var bare []string
	var keyed []string
	for _, v := range q.Roles {
		if strings.Contains(v, "=") {
			keyed = append(keyed, v)
		} else {
			bare = append(bare, v)
		}
	}
	if len(bare) > 1 {
		return reports.ASPAPathReport{}, Usagef("--peer-role: %d bare roles (%s) for one neighbour", len(bare), strings.Join(bare, ", "))
	}
	m, err := ParseRoles(keyed, q.RolesFile)
	if err != nil {
		return reports.ASPAPathReport{}, err
	}
	role, _ := m.Role(route.PeerKey{AS: neighbor})
	if len(bare) == 1 {
		if role, err = rov.ParsePeerRole(strings.TrimSpace(bare[0])); err != nil {
			return reports.ASPAPathReport{}, Usagef("--peer-role %q: %v", bare[0], err)
		}
	}
	e := rov.NewASPAVerifier(set).Explain(path, neighbor, role)
	return reports.BuildASPAPath(set, q.Path, neighbor, role, e), nil
}
