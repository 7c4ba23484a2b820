package study

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Role is what an input file is to a study.
type Role string

// The roles. Update files are RoleRoutes: ROUTES and --updates are replayed
// alike, in the order given (see ReadRoutes), so the distinction says
// nothing about how a file was used. (Snapshots made before this type was
// shared recorded them as "updates"; they still decode and are checked.)
const (
	RoleVRPs   Role = "vrps"
	RoleSLURM  Role = "slurm"
	RoleRoutes Role = "routes"
)

// Source is one input file as it was when a study read it: the one record
// of provenance that a snapshot keeps to tell it is stale (size and
// modification time), a history run keeps to tell whether two runs saw the
// same data (size and SHA-256), and watch keeps to tell a VRP file changed.
type Source struct {
	Role    Role   `json:"role"`
	Name    string `json:"name"`
	Size    int64  `json:"size"`     // -1: not a regular file (standard input, a pipe) or unknown
	ModTime int64  `json:"mtime_ns"` // Unix nanoseconds; 0 with Size -1
	SHA256  string `json:"sha256,omitempty"`
}

// Stat records one file as it is now, by the name given: what watch polls
// to see a VRP file change. The error is the file's stat error (standard
// input, "-", has no file to stat).
func Stat(role Role, name string) (Source, error) {
	st, err := os.Stat(name)
	if err != nil {
		return Source{Role: role, Name: name, Size: -1}, err
	}
	return Source{Role: role, Name: name, Size: st.Size(), ModTime: st.ModTime().UnixNano()}, nil
}

// StatAll records names (of one role) as they are now, by absolute path so
// that a reader in another directory checks the same files: what a snapshot
// keeps to tell it is stale. A name that is not a regular file ("-" for
// standard input, a pipe), or cannot be read, gets Size -1 and is never
// reported as changed (the study itself reports an unreadable file).
func StatAll(role Role, names []string) []Source {
	out := make([]Source, 0, len(names))
	for _, n := range names {
		s := Source{Role: role, Name: n, Size: -1}
		if st, err := os.Stat(n); err == nil && st.Mode().IsRegular() {
			s.Size, s.ModTime = st.Size(), st.ModTime().UnixNano()
			if abs, err := filepath.Abs(n); err == nil {
				s.Name = abs
			}
		}
		out = append(out, s)
	}
	return out
}

// Hash records one file by its name as given, size and SHA-256. It reads
// the whole file once more: cheap next to an analysis, and it pins what was
// read. "-" (stdin) cannot be re-read and is recorded with Size -1.
func Hash(role Role, name string) (Source, error) {
	s := Source{Role: role, Name: name, Size: -1}
	if name == "-" {
		return s, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return s, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return s, fmt.Errorf("hashing %s at offset %d: %w", name, n, err)
	}
	s.Size, s.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	return s, nil
}

// Same says whether o records the file as s does (size and modification
// time): what a poll compares.
func (s Source) Same(o Source) bool { return s.Size == o.Size && s.ModTime == o.ModTime }

// Changed says how the file differs now from what s recorded ("" when it
// does not, or when it was not a regular file).
func (s Source) Changed() string {
	if s.Size < 0 {
		return ""
	}
	st, err := os.Stat(s.Name)
	if err != nil {
		return fmt.Sprintf("no longer readable (%v)", err)
	}
	var what []string
	if st.Size() != s.Size {
		what = append(what, fmt.Sprintf("size %d, was %d", st.Size(), s.Size))
	}
	if m := st.ModTime().UnixNano(); m != s.ModTime {
		what = append(what, fmt.Sprintf("modified %s, was %s", st.ModTime().UTC().Format(time.RFC3339), time.Unix(0, s.ModTime).UTC().Format(time.RFC3339)))
	}
	return strings.Join(what, "; ")
}

// Inputs lists every input file of a study by role, in the order read:
// VRPs, SLURM, then route files (ROUTES, then --updates).
type Inputs struct {
	VRPs, SLURM, Routes, Updates []string
}

// Stat records every input as it is now, before it is read, so a file
// replaced while the analysis runs makes a snapshot look stale, not current.
func (in Inputs) Stat() []Source {
	var s []Source
	s = append(s, StatAll(RoleVRPs, in.VRPs)...)
	s = append(s, StatAll(RoleSLURM, in.SLURM)...)
	s = append(s, StatAll(RoleRoutes, in.Routes)...)
	return append(s, StatAll(RoleRoutes, in.Updates)...)
}

// Hash records every input by size and SHA-256 (see Hash).
func (in Inputs) Hash() ([]Source, error) {
	var out []Source
	for _, g := range []struct {
		role  Role
		names []string
	}{{RoleVRPs, in.VRPs}, {RoleSLURM, in.SLURM}, {RoleRoutes, in.Routes}, {RoleRoutes, in.Updates}} {
		for _, name := range g.names {
			s, err := Hash(g.role, name)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}
