package mrt

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

// sharedMRT returns the directory of the shared MRT corpus
// (shared/data/mrt beside the repository root), skipping the test when it
// is missing, or failing it when CI=true.
func sharedMRT(t testing.TB) string {
	t.Helper()
	if p := findShared(); p != "" {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("shared/data/mrt not found beside the repository (CI=true)")
	}
	t.Skip("shared/data/mrt not found beside the repository; skipping")
	return ""
}

// findShared walks up from the working directory to find shared/data/mrt;
// it returns "" when there is none.
func findShared() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "shared", "data", "mrt")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// localFiles lists the MRT slices committed in testdata/.
func localFiles(t testing.TB) []string {
	m, err := filepath.Glob(filepath.Join("testdata", "*.mrt"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no testdata/*.mrt: %v", err)
	}
	return m
}

// sharedFiles lists every MRT file of the shared corpus, samples included.
func sharedFiles(t testing.TB) []string {
	dir := sharedMRT(t)
	var files []string
	for _, pat := range []string{"*", "samples/*"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if st, err := os.Stat(f); err == nil && !st.IsDir() {
				files = append(files, f)
			}
		}
	}
	return files
}

// decompress reads a whole file, gunzipping or bunzipping it by its magic
// bytes. A stream cut mid-way (the truncated RIBs) returns what was decoded
// and the io.ErrUnexpectedEOF the decompressor reported.
func decompress(t testing.TB, path string) ([]byte, error) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader
	switch {
	case bytes.HasPrefix(raw, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case bytes.HasPrefix(raw, []byte("BZh")):
		r = bzip2.NewReader(bytes.NewReader(raw))
	default:
		return raw, nil
	}
	out, err := io.ReadAll(r)
	return out, err
}

// formatPath writes a path as bgpdump -m does: AS_SEQUENCE space-separated,
// AS_SET "{a,b}", AS_CONFED_SEQUENCE "(a b)", AS_CONFED_SET "[a,b]".
func formatPath(p []rov.Segment) string {
	var sb strings.Builder
	for i, s := range p {
		if i > 0 {
			sb.WriteByte(' ')
		}
		open, sep, end := "", " ", ""
		switch s.Type {
		case rov.ASSet:
			open, sep, end = "{", ",", "}"
		case rov.ASConfedSequence:
			open, end = "(", ")"
		case rov.ASConfedSet:
			open, sep, end = "[", ",", "]"
		}
		sb.WriteString(open)
		for j, a := range s.ASNs {
			if j > 0 {
				sb.WriteString(sep)
			}
			sb.WriteString(strconv.FormatUint(uint64(a), 10))
		}
		sb.WriteString(end)
	}
	return sb.String()
}

// eventLine renders an event in the shape the differential tests compare.
func eventLine(r *route.Route) string {
	switch r.Kind {
	case route.Announce:
		return fmt.Sprintf("A|%s|%d|%s|%d|%s|%s", r.Peer.IP, r.Peer.AS, r.Prefix, r.PathID, formatPath(r.Path), r.NextHop)
	case route.Withdraw:
		return fmt.Sprintf("W|%s|%d|%s|%d", r.Peer.IP, r.Peer.AS, r.Prefix, r.PathID)
	default:
		return fmt.Sprintf("DOWN|%s|%d", r.Peer.IP, r.Peer.AS)
	}
}

// readAll runs a Reader over data and returns the rendered events.
func readAll(t testing.TB, data []byte, name string) ([]string, *Reader) {
	t.Helper()
	rd := NewReader(bytes.NewReader(data), Options{Name: name})
	var lines []string
	for rd.Next() {
		lines = append(lines, eventLine(rd.Route()))
	}
	return lines, rd
}

// isTruncation reports whether err is the expected end of a cut file.
func isTruncation(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }
