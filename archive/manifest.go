package archive

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/rovimpact/rovimpact/internal/compressed"
)

// WriteManifest writes units as JSON lines: one object per line that a
// person can read, grep and edit (delete a line to drop a unit, change vrps
// to pair it differently); run and merge read it back with ReadManifest.
func WriteManifest(w io.Writer, units []Unit) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, u := range units {
		if err := enc.Encode(u); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// maxManifestLine bounds one manifest line (a RIB with a day of update
// files is a few KiB).
const maxManifestLine = 1 << 20

// ReadManifestFile reads the manifest at path (compressed or not) with
// ReadManifest.
func ReadManifestFile(path string) ([]Unit, error) {
	f, err := compressed.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadManifest(f, path)
}

// ReadManifest reads a manifest, skipping blank lines and lines starting
// with '#'. A malformed line is an error naming its line number: a
// manifest is edited by hand, and a silently dropped unit would be a hole
// in the timeline.
func ReadManifest(r io.Reader, name string) ([]Unit, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxManifestLine)
	var units []Unit
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		var u Unit
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&u); err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", name, line, err)
		}
		if u.Skip == "" && !u.Runnable() {
			return nil, fmt.Errorf("%s: line %d: a unit needs rib, time and vrps (or skip with a reason)", name, line)
		}
		units = append(units, u)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return units, nil
}

// ID names a unit by the hash of what decides its result: collector, time,
// RIB, updates and VRP file. The same line run twice, by two shards or
// after a requeue, writes the same files; an edited line is a new unit.
// 16 hex digits (64 bits) make a collision across millions of units
// vanishingly unlikely.
func (u Unit) ID() string {
	h := sha256.New()
	t := ""
	if u.Time != nil {
		t = u.Time.UTC().Format(time.RFC3339Nano)
	}
	// JSON of a fixed struct: unambiguous field boundaries.
	b, _ := json.Marshal(struct {
		C, T, R string
		U       []string
		V       string
	}{u.Collector, t, u.RIB, u.Updates, u.VRPs})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))[:16]
}
