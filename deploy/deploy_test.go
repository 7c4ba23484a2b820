// Package deploy holds what an operator installs around `rovimpact watch`:
// the systemd unit, an example configuration, Prometheus alert rules and a
// Grafana dashboard. Its tests keep them true to the program.
package deploy

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

// exported reads the metric names serve/ exports: the first argument of
// every desc("rovimpact_…", …) call in its non-test files.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, _ := filepath.Glob(filepath.Join("..", "serve", "*.go"))
	names := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "desc" {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				names[s] = true
			}
			return true
		})
	}
	if len(names) < 10 {
		t.Fatalf("found %d metric names in serve/: the desc(...) pattern no longer matches", len(names))
	}
	return names
}

var metricRE = regexp.MustCompile(`\brovimpact_[a-z0-9_]+`)

// checkNames fails for every rovimpact_ name in expr that serve/ does not
// export, and reports whether expr names one at all.
func checkNames(t *testing.T, where, expr string, names map[string]bool) bool {
	t.Helper()
	found := metricRE.FindAllString(expr, -1)
	for _, m := range found {
		if !names[m] {
			t.Errorf("%s: %s is not a metric watch exports (serve/metrics.go): %s", where, m, expr)
		}
	}
	return len(found) > 0
}

// TestGrafanaDashboard: every query of the dashboard (panels and template
// variables) names a metric watch exports, so a renamed metric cannot
// leave a panel silently empty.
func TestGrafanaDashboard(t *testing.T) {
	names := exported(t)
	b, err := os.ReadFile(filepath.Join("grafana", "rovimpact-watch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct {
				Name, Type string
				Query      any
			}
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Panels) == 0 {
		t.Fatal("no panels")
	}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if !checkNames(t, "panel "+p.Title, q.Expr, names) {
				t.Errorf("panel %q: query %q names no rovimpact metric", p.Title, q.Expr)
			}
		}
	}
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(string); ok && v.Type == "query" && !checkNames(t, "variable "+v.Name, q, names) {
			t.Errorf("variable %s: query %q names no rovimpact metric", v.Name, q)
		}
	}
}

// TestPrometheusRules: promtool (Debian prometheus) checks the rules and
// runs their unit tests; every metric they use is one watch exports.
func TestPrometheusRules(t *testing.T) {
	names := exported(t)
	b, err := os.ReadFile(filepath.Join("prometheus", "rovimpact.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if expr, ok := strings.CutPrefix(strings.TrimSpace(line), "expr:"); ok && !checkNames(t, "rules line "+strconv.Itoa(i+1), expr, names) {
			t.Errorf("rules line %d: %q names no rovimpact metric", i+1, expr)
		}
	}
	promtool := testutil.NeedTool(t, "promtool", "prometheus")
	for _, args := range [][]string{{"check", "rules", "rovimpact.rules.yml"}, {"test", "rules", "rovimpact.rules.test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestSystemdUnit: the unit keeps the hardening the README promises.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("rovimpact-watch.service")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "AmbientCapabilities=CAP_NET_BIND_SERVICE",
		"CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "StateDirectory=rovimpact", "NoNewPrivileges=yes", "ProtectHome=yes",
		"ExecReload=/bin/kill -HUP $MAINPID", "ExecStart=/usr/local/bin/rovimpact watch --config /etc/rovimpact/watch.yaml"} {
		if !slices.Contains(lines, want) {
			t.Errorf("rovimpact-watch.service lacks %q", want)
		}
	}
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		// verify needs the ExecStart binary; point it at one that exists.
		dir := t.TempDir()
		unit := strings.ReplaceAll(string(b), "/usr/local/bin/rovimpact", "/bin/true")
		p := filepath.Join(dir, "rovimpact-watch.service")
		os.WriteFile(p, []byte(unit), 0o644)
		if out, err := exec.Command(sa, "verify", p).CombinedOutput(); err != nil && strings.Contains(string(out), "rovimpact-watch.service:") {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
		// systemd's own score of the sandbox, 0 (locked down) to 10; 1.6
		// when written. Older systemd lacks --offline: then no score.
		out, err := exec.Command(sa, "security", "--offline=true", p).CombinedOutput()
		if m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out); err == nil && m != nil {
			if score, _ := strconv.ParseFloat(string(m[1]), 64); score > 2 {
				t.Errorf("systemd-analyze security: exposure %.1f, want at most 2 (it was 1.6)\n%s", score, out)
			}
		}
	}
}
