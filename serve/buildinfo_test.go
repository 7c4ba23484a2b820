package serve

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/internal/buildinfo"
)

// TestBuildInfoMetric: /metrics says which build is running, the labels
// matching `rovimpact version`, so a dashboard can tell a rollout apart.
func TestBuildInfoMetric(t *testing.T) {
	srv := New(Config{Table: small.state(t)})
	code, _, body := get(t, srv, "/metrics")
	bi := buildinfo.Get()
	want := fmt.Sprintf("rovimpact_build_info{goversion=%q,revision=%q,version=%q} 1\n", bi.GoVersion, bi.Revision, bi.Version)
	if code != 200 || !strings.Contains(body, want) {
		t.Errorf("/metrics (status %d) lacks %q", code, want)
	}
}
