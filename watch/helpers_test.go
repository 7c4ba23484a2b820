package watch

// Fixtures shared with cmd/rovimpact's watch tests (copies: the CLI
// tests there drive the same routes and VRPs through real peers).

import (
	"github.com/rovimpact/rovimpact/internal/testutil/watchfix"
	"github.com/rovimpact/rovimpact/rov"
)

// annRoute is one path a test speaker announces (watchfix.Route).
type annRoute = watchfix.Route

func vrpOf(p string, maxLen int, asn uint32) rov.VRP { return watchfix.VRP(p, maxLen, asn) }
