package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sampleSnapshots writes the two snapshots the lookup goldens need: the
// sample's routes and VRPs through analyze --save, and the VRPs alone
// through the snapshot command.
func sampleSnapshots(t *testing.T) (routes, vrpsOnly string) {
	t.Helper()
	dir := t.TempDir()
	routes, vrpsOnly = filepath.Join(dir, "sample.rovsnap"), filepath.Join(dir, "vrps.rovsnap")
	if _, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--save", routes}, sample...)...); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "snapshot", "--vrps", sampleVRPs, "--output", vrpsOnly)
	if err != nil {
		t.Fatal(err)
	}
	if want := vrpsOnly + ": 1947 VRPs, 0 routes, 0 peers\n"; out != want {
		t.Errorf("snapshot printed %q, want %q", out, want)
	}
	return routes, vrpsOnly
}

// readGolden reads a lookup golden without ever rewriting it: the snapshot
// must answer what the files answer.
func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "lookup", name+".golden"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLookupSnapshotGolden: every golden lookup (each query kind, every
// format) answered from a snapshot is byte for byte the answer from the
// sample files, whether the snapshot is named by --snapshot or given as
// the only route file.
func TestLookupSnapshotGolden(t *testing.T) {
	withRoutes, vrpsOnly := sampleSnapshots(t)
	for name, q := range lookupQueries {
		snap := withRoutes
		if name == "vrps-only" {
			snap = vrpsOnly
		}
		for _, format := range []string{"table", "json", "csv"} {
			for _, how := range []string{"flag", "positional"} {
				t.Run(name+"."+format+"."+how, func(t *testing.T) {
					args := []string{"lookup", "--format", format}
					if how == "flag" {
						args = append(append(args, "--snapshot", snap), q...)
					} else {
						args = append(append(args, q...), snap)
					}
					out, _, err := runCLI(t, args...)
					if err != nil {
						t.Fatal(err)
					}
					if want := readGolden(t, name+"."+format); out != want {
						t.Errorf("lookup from the snapshot differs from testdata/lookup/%s.%s.golden:\ngot:\n%s\nwant:\n%s", name, format, out, want)
					}
				})
			}
		}
	}
	// Queries on standard input.
	out, _, err := runCLIStdin(t, "# from stdin\n1.1.1.1\n\n5.172.202.10\n", "lookup", "--format", "json", "--snapshot", withRoutes)
	if err != nil {
		t.Fatal(err)
	}
	if want := readGolden(t, "address.json"); out != want {
		t.Errorf("stdin queries from the snapshot differ from address.json.golden:\n%s", out)
	}
}

// TestLookupSnapshotConflicts: options that would change what the snapshot
// fixed are usage errors (exit 2) naming the option; the same values it
// was made with are accepted.
func TestLookupSnapshotConflicts(t *testing.T) {
	snap, _ := sampleSnapshots(t)
	cases := []struct {
		name string
		args []string
		want string // "" for success
	}{
		{"--vrps", []string{"--vrps", sampleVRPs}, "--vrps cannot be used with the snapshot"},
		{"--slurm", []string{"--slurm", "x.slurm"}, "--slurm cannot be used"},
		{"--drop-expired", []string{"--drop-expired"}, "--drop-expired cannot be used"},
		{"--updates", []string{"--updates", sample[0]}, "--updates cannot be used"},
		{"--peer", []string{"--peer", "AS7018"}, "--peer cannot be used"},
		{"a route file", []string{sample[0]}, "route file " + sample[0] + " cannot be used"},
		{"another AS_SET policy", []string{"--as-set", "notfound"}, "--as-set notfound: the snapshot " + snap + " was made with --as-set invalid"},
		{"a local AS", []string{"--local-as", "64512"}, "--local-as 64512"},
		{"counting the default route", []string{"--count-default"}, "--count-default true"},
		{"the recorded AS_SET policy", []string{"--as-set", "invalid"}, ""},
		{"the recorded local AS", []string{"--local-as", "0", "--count-default=false"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"lookup", "--snapshot", snap, "1.1.1.0/24"}, tc.args...)
			_, _, err := runCLI(t, args...)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v (exit %d), want a usage error containing %q", err, exitCodeOf(err), tc.want)
			}
		})
	}
	// A snapshot among route files, with --vrps, is named.
	_, _, err := runCLI(t, "lookup", "--vrps", sampleVRPs, "1.1.1.0/24", snap)
	if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), snap+" is a snapshot") {
		t.Errorf("snapshot with --vrps: got %v (exit %d), want a usage error naming it", err, exitCodeOf(err))
	}
}

// TestLookupSnapshotStale: a source file changed after the snapshot was
// made is reported on stderr (by name, with what changed); the answers are
// still the snapshot's.
func TestLookupSnapshotStale(t *testing.T) {
	dir := t.TempDir()
	var routes []string
	for _, f := range sample {
		dst := filepath.Join(dir, filepath.Base(f))
		copyFile(t, f, dst)
		routes = append(routes, dst)
	}
	snap := filepath.Join(dir, "s.rovsnap")
	if _, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--save", snap}, routes...)...); err != nil {
		t.Fatal(err)
	}
	before, stderr, err := runCLI(t, "lookup", "--snapshot", snap, "AS18101")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr, "changed since") {
		t.Errorf("fresh snapshot reported stale: %s", stderr)
	}
	f, err := os.OpenFile(routes[1], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	os.Chtimes(routes[1], time.Time{}, time.Now().Add(time.Hour))
	after, stderr, err := runCLI(t, "lookup", "--snapshot", snap, "AS18101")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "routes file "+routes[1]+" changed since the snapshot was made") || !strings.Contains(stderr, "size ") {
		t.Errorf("stderr does not report %s as changed:\n%s", routes[1], stderr)
	}
	if strings.Contains(stderr, routes[0]) {
		t.Errorf("unchanged %s reported:\n%s", routes[0], stderr)
	}
	if after != before {
		t.Error("the answers changed with the source file; they must stay the snapshot's")
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLookupSnapshotDamaged: a damaged snapshot is an error (exit 1)
// naming the file and the offset, never a panic or a wrong answer.
func TestLookupSnapshotDamaged(t *testing.T) {
	snap, _ := sampleSnapshots(t)
	data, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", data[:len(data)/2], "checksum"},
		{"bit flipped", func() []byte { d := append([]byte(nil), data...); d[len(d)/3] ^= 1; return d }(), "checksum"},
		{"newer version", func() []byte { d := append([]byte(nil), data...); d[8] = 9; return d }(), "format version 9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".rovsnap")
			os.WriteFile(name, tc.data, 0o644)
			_, _, err := runCLI(t, "lookup", "--snapshot", name, "1.1.1.0/24")
			if exitCodeOf(err) != exitError || !strings.Contains(err.Error(), "snapshot "+name+": offset ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v (exit %d), want exit 1 naming %s, an offset and %q", err, exitCodeOf(err), name, tc.want)
			}
		})
	}
	_, _, err = runCLI(t, "lookup", "--snapshot", sample[0], "1.1.1.0/24")
	if exitCodeOf(err) != exitError || !strings.Contains(err.Error(), "not a rovimpact snapshot") {
		t.Errorf("an MRT file as --snapshot: got %v, want 'not a rovimpact snapshot'", err)
	}
}

// TestSaveKeepsReport: --save changes nothing analyze prints.
func TestSaveKeepsReport(t *testing.T) {
	plain, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--format", "json"}, sample...)...)
	if err != nil {
		t.Fatal(err)
	}
	saved, _, err := runCLI(t, append([]string{"analyze", "--vrps", sampleVRPs, "--format", "json", "--save", filepath.Join(t.TempDir(), "s.rovsnap")}, sample...)...)
	if err != nil {
		t.Fatal(err)
	}
	if saved != plain {
		t.Error("analyze --save changed the report")
	}
}

func TestSnapshotCommandUsage(t *testing.T) {
	_, _, err := runCLI(t, "snapshot", "--vrps", sampleVRPs)
	if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "--output") {
		t.Errorf("no --output: got %v (exit %d), want a usage error", err, exitCodeOf(err))
	}
	_, _, err = runCLI(t, "snapshot", "--output", filepath.Join(t.TempDir(), "s.rovsnap"))
	if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "--vrps") {
		t.Errorf("no --vrps: got %v (exit %d), want a usage error", err, exitCodeOf(err))
	}
}
