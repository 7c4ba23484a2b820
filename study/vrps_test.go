package study

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rovimpact/rovimpact/rov"
)

func slurmFile(t *testing.T, dir, name, filters, assertions string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	doc := `{"slurmVersion": 1,
 "validationOutputFilters": {"prefixFilters": [` + filters + `], "bgpsecFilters": []},
 "locallyAddedAssertions": {"prefixAssertions": [` + assertions + `], "bgpsecAssertions": []}}`
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadSLURM: the one SLURM merge analyze and watch use. No files is no
// SLURM; files merge; files that overlap are refused (RFC 8416 §4.2).
func TestLoadSLURM(t *testing.T) {
	dir := t.TempDir()
	if s, err := LoadSLURM(nil); s != nil || err != nil {
		t.Fatalf("no files: %v, %v", s, err)
	}
	a := slurmFile(t, dir, "a.json", `{"prefix": "192.0.2.0/24"}`, "")
	b := slurmFile(t, dir, "b.json", "", `{"asn": 64500, "prefix": "198.51.100.0/24", "maxPrefixLength": 24}`)
	s, err := LoadSLURM([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.PrefixFilters) != 1 || len(s.PrefixAssertions) != 1 {
		t.Fatalf("merged: %+v", s)
	}
	c := slurmFile(t, dir, "c.json", `{"prefix": "192.0.2.128/25"}`, "")
	if _, err := LoadSLURM([]string{a, c}); !errors.Is(err, rov.ErrSLURMOverlap) {
		t.Fatalf("overlapping files: %v, want ErrSLURMOverlap", err)
	}
	if _, err := LoadSLURM([]string{filepath.Join(dir, "missing.json")}); err == nil {
		t.Fatal("missing file: no error")
	}
}
