package study

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckASPAArgs: aspa takes ROUTES or --path, never both, and the
// flags that belong to one form are usage errors (exit 2) with the other.
func TestCheckASPAArgs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		path     bool
		routes   []string
		opt      RouteOptions
		neighbor string
		want     string // "" for no error
	}{
		{"routes", false, []string{"rib.mrt"}, RouteOptions{}, "", ""},
		{"routes and peer", false, []string{"rib.mrt"}, RouteOptions{Peers: []string{"64500"}}, "", ""},
		{"path", true, nil, RouteOptions{}, "64500", ""},
		{"path with routes", true, []string{"rib.mrt"}, RouteOptions{}, "", "give no ROUTES (got 1)"},
		{"path with peer", true, nil, RouteOptions{Peers: []string{"64500"}}, "", "--peer goes with ROUTES"},
		{"path with updates", true, nil, RouteOptions{Updates: []string{"u.mrt"}}, "", "--updates goes with ROUTES"},
		{"nothing", false, nil, RouteOptions{}, "", "aspa needs ROUTES"},
		{"neighbor without path", false, []string{"rib.mrt"}, RouteOptions{}, "64500", "--neighbor goes with --path"},
	} {
		err := CheckASPAArgs(tc.path, tc.routes, tc.opt, tc.neighbor)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v, want no error", tc.name, err)
			}
			continue
		}
		var ue *UsageError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ue) {
			t.Errorf("%s: %v, want a usage error containing %q", tc.name, err, tc.want)
		}
	}
}
