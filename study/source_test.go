package study

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSourceChanged: a recorded file whose size or time changed, or that
// is gone, is reported; standard input never is.
func TestSourceChanged(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "rib.mrt")
	if err := os.WriteFile(name, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := StatAll(RoleRoutes, []string{name, "-", filepath.Join(dir, "missing")})
	if src[0].Size != 3 || src[1].Size != -1 || src[2].Size != -1 {
		t.Fatalf("StatAll = %+v", src)
	}
	if c := src[0].Changed(); c != "" {
		t.Errorf("unchanged file: %q", c)
	}
	was, _ := Stat(RoleRoutes, name)
	os.WriteFile(name, []byte("abcd"), 0o644)
	os.Chtimes(name, time.Time{}, time.Unix(1e9, 0))
	if c := src[0].Changed(); !strings.Contains(c, "size 4, was 3") || !strings.Contains(c, "modified 2001-09-09") {
		t.Errorf("changed file: %q", c)
	}
	if now, _ := Stat(RoleRoutes, name); now.Same(was) {
		t.Errorf("Same(%+v, %+v) after a rewrite", now, was)
	}
	os.Remove(name)
	if c := src[0].Changed(); !strings.Contains(c, "no longer readable") {
		t.Errorf("removed file: %q", c)
	}
	if c := src[1].Changed(); c != "" {
		t.Errorf("stdin: %q", c)
	}
}

// TestHash pins the size and SHA-256 of a known file.
func TestHash(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("abc"), 0o644)
	in, err := Hash(RoleRoutes, p)
	if err != nil {
		t.Fatal(err)
	}
	// SHA-256("abc"), FIPS 180-2 appendix B.1.
	if in.Size != 3 || in.SHA256 != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" || in.Name != p {
		t.Errorf("got %+v", in)
	}
	if in, _ := Hash(RoleRoutes, "-"); in.Size != -1 {
		t.Errorf("stdin: got %+v", in)
	}
}

// TestInputsRoles: every input is recorded once, in the order read, and
// update files are route files (one label for snapshot and history alike).
func TestInputsRoles(t *testing.T) {
	in := Inputs{VRPs: []string{"-"}, SLURM: []string{"-"}, Routes: []string{"-"}, Updates: []string{"-"}}
	var got []Role
	for _, s := range in.Stat() {
		got = append(got, s.Role)
	}
	hashed, err := in.Hash()
	if err != nil {
		t.Fatal(err)
	}
	want := []Role{RoleVRPs, RoleSLURM, RoleRoutes, RoleRoutes}
	for i := range want {
		if got[i] != want[i] || hashed[i].Role != want[i] {
			t.Errorf("input %d: stat %q, hash %q, want %q", i, got[i], hashed[i].Role, want[i])
		}
	}
}
