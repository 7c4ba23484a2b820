package mrt

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/testutil"
	"github.com/rovimpact/rovimpact/route"
)

// sweepRun is what one read of a (possibly damaged) file gave.
type sweepRun struct {
	routes []string // Announce and Withdraw events, rendered
	ends   []int64  // decompressed offset of the end of each route's record
	err    error
	stats  route.Stats
}

// sweepRead reads path through internal/compressed as the CLI does.
func sweepRead(t *testing.T, path string) sweepRun {
	t.Helper()
	f, err := compressed.Open(path)
	if err != nil {
		return sweepRun{err: err}
	}
	defer f.Close()
	rd := NewReader(f, Options{Name: path})
	var run sweepRun
	for rd.Next() {
		if r := rd.Route(); r.Kind != route.PeerDown {
			run.routes = append(run.routes, eventLine(r))
			run.ends = append(run.ends, rd.off)
		}
	}
	run.err, run.stats = rd.Err(), rd.Stats()
	return run
}

// bgpdumpRoutes runs bgpdump -m on path, whatever its exit status (it
// exits 0 on most damage), and keeps its route lines (A, B, W).
// bgpdump 1.6.2 loops forever on some cut .bz2 files (libbz2 reports the
// cut, bgpdump retries): it is killed after 20 s, keeping what it printed.
func bgpdumpRoutes(t *testing.T, bin, path string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, "-m", path).Output()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if f := strings.SplitN(sc.Text(), "|", 4); len(f) > 3 && (f[2] == "A" || f[2] == "B" || f[2] == "W") {
			lines = append(lines, sc.Text())
		}
	}
	return lines
}

func commonPrefix(a, b []string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// before counts the routes of records that end at or before offset x.
func (s sweepRun) before(x int64) int {
	n := 0
	for n < len(s.ends) && s.ends[n] <= x {
		n++
	}
	return n
}

// TestDamageSweep cuts and corrupts every shared MRT file (issue 12): cuts
// of the compressed file, bit flips in its compressed bytes and in its
// decompressed bytes. Each damaged file is read as the CLI reads it and
// with bgpdump -m. The Reader must report the damage (a cut or a damaged
// compressed stream ends in an *InputError naming it) and deliver, from
// before the damage, at least as many routes as bgpdump -m: counted as the
// routes both readers deliver unchanged from the start of the file
// (bgpdump's against bgpdump on the undamaged file, ours against ours),
// bounded by the routes of the records wholly before the damage. The
// default run tries one damage of each kind in the first 128 KB of each
// file (a few seconds); -full tries twenty over whole files.
func TestDamageSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs bgpdump on every shared MRT file")
	}
	bin := testutil.NeedTool(t, "bgpdump", "bgpdump")
	tries := 1
	if *fullCorpus {
		tries = 20
	}
	rng := rand.New(rand.NewPCG(12, 12))
	dir := t.TempDir()
	for _, path := range sharedFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) { sweepFile(t, bin, path, dir, tries, rng) })
	}
}

func sweepFile(t *testing.T, bin, path, dir string, tries int, rng *rand.Rand) {
	{
		name := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		format := compressed.Detect(data)
		write := func(kind string, i int, d []byte) string {
			p := filepath.Join(dir, fmt.Sprintf("%s.%s%d", name, kind, i))
			if err := os.WriteFile(p, d, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		if !*fullCorpus && len(data) > 128<<10 {
			// The default run damages the first 128 KB (a cut file
			// itself, read alike by both tools), to stay fast.
			data = data[:128<<10]
			path = write("head", 0, data)
		}
		orig := sweepRead(t, path)
		origB := bgpdumpRoutes(t, bin, path)
		// check reads a damaged file; x is the decompressed offset of the
		// damage (-1: unknown, ours must match bgpdump's whole prefix).
		check := func(what, p string, x int64, wantErr bool) {
			t.Helper()
			got := sweepRead(t, p)
			var ie *route.InputError
			if wantErr && !errors.As(got.err, &ie) {
				t.Errorf("%s %s: Err() = %v, want an *route.InputError", name, what, got.err)
			}
			if got.err != nil && !errors.As(got.err, &ie) {
				t.Errorf("%s %s: Err() = %v, not an *route.InputError", name, what, got.err)
			}
			if ie != nil && x < 0 && ie.Damage == route.Corrupt {
				// The decompressor names the damaged spot: nothing
				// unverified past it counts (bzip2 checks whole blocks).
				var ce *compressed.Error
				if errors.As(ie, &ce) {
					x = ce.Out
				}
			}
			ours := commonPrefix(got.routes, orig.routes)
			theirs := commonPrefix(bgpdumpRoutes(t, bin, p), origB)
			want := theirs
			if x >= 0 {
				want = min(theirs, orig.before(x))
			}
			if ours < want {
				t.Errorf("%s %s: %d routes before the damage, bgpdump -m %d (%d of them from records before offset %d); Err() = %v",
					name, what, ours, theirs, want, x, got.err)
			}
		}
		for i := range tries {
			if format != compressed.Raw {
				cut := 64 + rng.IntN(len(data)-64)
				check(fmt.Sprintf("cut at %d", cut), write("cut", i, data[:cut]), -1, true)
				// A flip in the compressed body (not the header, nor the
				// last bytes, where bzip2 padding bits go unchecked).
				at := 64 + rng.IntN(len(data)-80)
				d := bytes.Clone(data)
				d[at] ^= 1 << rng.IntN(8)
				check(fmt.Sprintf("compressed bit flip at %d", at), write("zflip", i, d), -1, true)
			}
			// A flip in the decompressed bytes (the first 2 MB, written
			// raw, so bgpdump reads it fast).
			raw, _ := decompress(t, path)
			raw = raw[:min(len(raw), 2<<20)]
			if len(raw) < 16 {
				continue
			}
			at := rng.IntN(len(raw))
			d := bytes.Clone(raw)
			d[at] ^= 1 << rng.IntN(8)
			check(fmt.Sprintf("raw bit flip at %d", at), write("rflip", i, d), int64(at), false)
		}
	}
}

// TestCutEveryByte cuts a small MRT file, gzipped and bzip2ed, at every
// byte (every 4th without -full) and compares with zcat or bzcat then
// bgpdump -m: every cut reports the
// truncation, and we deliver at least the routes bgpdump delivers, all of
// them unchanged from the whole file's. A gzip cut lost the last complete
// record at 4 of 40 cut points of the PCH table, before the exact second
// pass (internal/compressed/inflate.go).
func TestCutEveryByte(t *testing.T) {
	if testing.Short() {
		t.Skip("runs bgpdump at every cut point")
	}
	bin := testutil.NeedTool(t, "bgpdump", "bgpdump")
	bz := testutil.NeedTool(t, "bzip2", "bzip2")
	zcat := testutil.NeedTool(t, "zcat", "gzip")
	bzcat := testutil.NeedTool(t, "bzcat", "bzip2")
	dir := t.TempDir()
	for _, name := range []string{"bird-mrtdump_bgp.mrt"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(raw)
		zw.Close()
		cmd := exec.Command(bz, "-9", "-c")
		cmd.Stdin = bytes.NewReader(raw)
		bzData, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		whole, _ := readAll(t, raw, name)
		var wholeRoutes []string
		for _, l := range whole {
			if !strings.HasPrefix(l, "DOWN") {
				wholeRoutes = append(wholeRoutes, l)
			}
		}
		for _, c := range []struct {
			ext  string
			data []byte
		}{{"gz", gz.Bytes()}, {"bz2", bzData}} {
			more, stride := 0, 4 // every 4th byte by default (5 s), every byte with -full
			if *fullCorpus {
				stride = 1
			}
			for n := 1; n < len(c.data); n += stride {
				p := filepath.Join(dir, fmt.Sprintf("%s.%d.%s", name, n, c.ext))
				if err := os.WriteFile(p, c.data[:n], 0o644); err != nil {
					t.Fatal(err)
				}
				got := sweepRead(t, p)
				// zcat or bzcat, then bgpdump -m on what they gave (bgpdump
				// loops forever on some cut .bz2 files it reads itself).
				unz := exec.Command(map[string]string{"gz": zcat, "bz2": bzcat}[c.ext])
				unz.Stdin = bytes.NewReader(c.data[:n])
				plain, _ := unz.Output() // exits non-zero on the cut
				if err := os.WriteFile(p+".mrt", plain, 0o644); err != nil {
					t.Fatal(err)
				}
				theirs := len(bgpdumpRoutes(t, bin, p+".mrt"))
				os.Remove(p + ".mrt")
				var ie *route.InputError
				if !errors.As(got.err, &ie) || ie.Damage != route.Truncated {
					if !(n < 10 && got.err != nil) { // a cut gzip/bzip2 header fails in Open
						t.Errorf("%s.%s cut at %d: Err() = %v, want a truncation", name, c.ext, n, got.err)
					}
				}
				if commonPrefix(got.routes, wholeRoutes) != len(got.routes) {
					t.Errorf("%s.%s cut at %d: routes differ from the whole file's", name, c.ext, n)
				}
				if len(got.routes) < theirs {
					t.Errorf("%s.%s cut at %d: %d routes, bgpdump -m %d", name, c.ext, n, len(got.routes), theirs)
				}
				if len(got.routes) > theirs {
					more++
				}
				os.Remove(p)
			}
			t.Logf("%s.%s: cut points every %d bytes of %d, more routes than bgpdump at %d", name, c.ext, stride, len(c.data), more)
		}
	}
}
