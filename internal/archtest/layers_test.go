package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/rovimpact/rovimpact"

// layers places every package of the module, lowest first; a package may
// import only packages on lower layers. Names that do not exist (yet) are
// harmless: they are the target shape of issue 13 (route, the bgpdump text
// reader, the watch service). Paths are relative to the module; a name
// places its package and every package under it, unless a longer name
// places that one.
var layers = [][]string{
	// 0: helpers that know nothing of routing.
	{"internal/atomicfile", "internal/buildinfo", "internal/compressed", "internal/progress", "internal/pfxkey", "internal/kmerge", "internal/flagfile", "internal/exitcode", "internal/hugepage", "internal/batchgc"},
	// 1: the ground: VRPs, origins, RFC 6811 validation, ASPA.
	{"rov"},
	// 2: the neutral route event, and the RTR client and VRP set.
	{"route", "rtr"},
	// 3: readers of routes: binary MRT, bgpdump text, live BGP/BMP.
	{"mrt", "bgpdumptext", "collector"},
	// 4: the route table, and the opener that picks a reader by content.
	{"table", "routefile"},
	// 5: every verdict: state, class, impact, cover, per-peer view.
	{"classify"},
	// 6: the live table, and the documents.
	{"live", "reports", "alert"},
	// 7: the input side of a study.
	{"study"},
	// 8: stores and services built on studies and the live table, and the
	// flags of a study (study/studyflags) that commands and watch share.
	{"snapshot", "history", "serve", "archive", "study/studyflags"},
	// 9: the watch service (serves its live table through serve).
	{"watch"},
	// 10: commands, benchmarks and test helpers.
	{"cmd", "bench", "internal/testutil", "internal/archtest", "deploy"},
}

// sameLayer are the imports allowed within one layer, each with its
// reason. Remove an entry once the edge is gone.
var sameLayer = map[[2]string]string{
	{"collector", "mrt"}:                              "collector decodes BGP UPDATEs with mrt's one RFC 7606 decoder (mrt/update.go), shared with BMP and MRT",
	{"internal/testutil/bird", "internal/testutil"}:   "the real-peer helpers find their Debian tools by testutil.NeedTool's one rule (fail under CI, else skip) and log into its SyncBuffer",
	{"internal/testutil/gobgpd", "internal/testutil"}: "the real-peer helpers find their Debian tools by testutil.NeedTool's one rule (fail under CI, else skip) and log into its SyncBuffer",
}

// layerOf returns the layer of a module-relative package path, or -1.
func layerOf(pkg string) int {
	best, bestLen := -1, -1
	for i, names := range layers {
		for _, n := range names {
			match := pkg == n || strings.HasPrefix(pkg, n+"/")
			if match && len(n) > bestLen {
				best, bestLen = i, len(n)
			}
		}
	}
	return best
}

// violations checks a graph (module-relative package → its module-relative
// imports) against the layers: every package placed, every import
// downward or listed in sameLayer.
func violations(graph map[string][]string) []string {
	var out []string
	pkgs := make([]string, 0, len(graph))
	for p := range graph {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		lp := layerOf(p)
		if lp < 0 {
			out = append(out, fmt.Sprintf("%s: not placed on a layer (add it to layers in internal/archtest and docs/architecture.md)", p))
			continue
		}
		for _, d := range graph[p] {
			ld := layerOf(d)
			switch {
			case ld < 0:
				// reported as a package of its own
			case ld > lp:
				out = append(out, fmt.Sprintf("%s (layer %d) imports %s (layer %d): an upward import", p, lp, d, ld))
			case ld == lp:
				if _, ok := sameLayer[[2]string{p, d}]; !ok {
					out = append(out, fmt.Sprintf("%s imports %s on its own layer %d (list it in sameLayer with the reason, or move one of them)", p, d, lp))
				}
			}
		}
	}
	return out
}

// listPackage is what go list -json says of a package that we use.
type listPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
	Module     *struct{ Path string }
}

// moduleGraph runs go list -deps -json over the module's packages and keeps
// the module's own packages and their imports of each other (test files
// excluded: a test may import helpers above it).
func moduleGraph(t *testing.T) map[string][]string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the import graph: %v", err)
	}
	cmd := exec.Command(gobin, "list", "-deps", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	graph := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		rel, ok := relative(p.ImportPath)
		if !ok {
			continue
		}
		noteInputs(p)
		var deps []string
		for _, imp := range p.Imports {
			if r, ok := relative(imp); ok {
				deps = append(deps, r)
			}
		}
		graph[rel] = deps
	}
	return graph
}

// noteInputs opens the package's directory and Go files. go test caches a
// passing result by the files the test itself opened; the graph comes from
// a go list subprocess, so without this an import added later would not
// rerun the test and a stale pass would be reported.
func noteInputs(p listPackage) {
	if f, err := os.Open(p.Dir); err == nil {
		f.Readdirnames(-1)
		f.Close()
	}
	for _, name := range p.GoFiles {
		if f, err := os.Open(filepath.Join(p.Dir, name)); err == nil {
			f.Close()
		}
	}
}

func relative(path string) (string, bool) {
	if path == module {
		return ".", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

// TestLayers: the module's import graph has no upward import and no
// unplaced package. (No upward import on a strict order also means no
// cycle, which the compiler refuses anyway.)
func TestLayers(t *testing.T) {
	graph := moduleGraph(t)
	for _, must := range []string{"rov", "classify", "study", "cmd/rovimpact"} {
		if _, ok := graph[must]; !ok {
			t.Fatalf("go list did not list %s: the graph is not the module's (%d packages)", must, len(graph))
		}
	}
	for _, v := range violations(graph) {
		t.Error(v)
	}
}

// TestViolations: the checker itself finds an upward import, an unlisted
// same-layer import and an unplaced package, and passes a sound graph.
func TestViolations(t *testing.T) {
	sound := map[string][]string{
		"rov": nil, "classify": {"rov", "table"}, "table": {"rov", "mrt"},
		"collector": {"mrt"}, "mrt": {"rov", "internal/compressed"}, "internal/compressed": nil,
		"cmd/rovimpact": {"study", "classify"}, "study": {"classify"},
	}
	if v := violations(sound); len(v) != 0 {
		t.Errorf("sound graph: %q", v)
	}
	for name, tc := range map[string]struct {
		graph map[string][]string
		want  string
	}{
		"upward":     {map[string][]string{"rov": {"classify"}, "classify": nil}, "rov (layer 1) imports classify (layer 5): an upward import"},
		"same layer": {map[string][]string{"reports": {"live"}, "live": nil}, "reports imports live on its own layer 6"},
		"unplaced":   {map[string][]string{"newpkg": {"rov"}, "rov": nil}, "newpkg: not placed on a layer"},
		"cmd down":   {map[string][]string{"classify": {"cmd/rovimpact"}, "cmd/rovimpact": nil}, "classify (layer 5) imports cmd/rovimpact (layer 10)"},
	} {
		v := violations(tc.graph)
		if !slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, tc.want) }) {
			t.Errorf("%s: got %q, want one containing %q", name, v, tc.want)
		}
	}
}
