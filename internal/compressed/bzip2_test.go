package compressed

import (
	"bytes"
	stdbzip2 "compress/bzip2"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rovimpact/rovimpact/internal/testutil"
)

// diffLimit caps the output compared in differential checks, so that a
// fuzzed block of runs (up to ~46 MB each) cannot exhaust memory.
const diffLimit = 64 << 20

// bzDecodeBoth decodes data with this package and with compress/bzip2.
// skip is set when either output reached diffLimit.
func bzDecodeBoth(t testing.TB, data []byte) (ours, std []byte, oerr, serr error, skip bool) {
	t.Helper()
	std, serr = io.ReadAll(io.LimitReader(stdbzip2.NewReader(bytes.NewReader(data)), diffLimit))
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	defer r.Close()
	ours, oerr = io.ReadAll(io.LimitReader(r, diffLimit))
	return ours, std, oerr, serr, len(ours) == diffLimit || len(std) == diffLimit
}

// bzCheckWeak is what must hold for any input, however damaged: a stream
// compress/bzip2 accepts comes out byte for byte; one it rejects is
// rejected too, after a prefix of what it delivered (we hand out a block
// only once its CRC matched; compress/bzip2 streams a block before checking
// it); when both report a cut (io.ErrUnexpectedEOF), the same complete
// blocks came out.
func bzCheckWeak(t testing.TB, what string, data []byte) {
	t.Helper()
	ours, std, oerr, serr, skip := bzDecodeBoth(t, data)
	if skip {
		return
	}
	switch {
	case serr == nil && oerr != nil:
		t.Fatalf("%s: compress/bzip2 accepts (%d bytes), we fail after %d: %v", what, len(std), len(ours), oerr)
	case serr == nil && !bytes.Equal(ours, std):
		t.Fatalf("%s: %d bytes out, compress/bzip2 gives %d (equal prefix: %v)", what, len(ours), len(std), bytes.HasPrefix(std, ours))
	case serr != nil && oerr == nil:
		t.Fatalf("%s: compress/bzip2 fails (%v), we end cleanly after %d bytes", what, serr, len(ours))
	case serr != nil && !bytes.HasPrefix(std, ours):
		t.Fatalf("%s: our %d bytes are not a prefix of compress/bzip2's %d (%v / %v)", what, len(ours), len(std), oerr, serr)
	case errors.Is(serr, io.ErrUnexpectedEOF) && errors.Is(oerr, io.ErrUnexpectedEOF) && len(ours) != len(std):
		t.Fatalf("%s: cut stream: %d bytes out, compress/bzip2 gives %d", what, len(ours), len(std))
	}
}

// bzCheckCut is the contract for a valid stream cut short: the same bytes
// as compress/bzip2 (every complete block), then io.ErrUnexpectedEOF.
func bzCheckCut(t testing.TB, what string, data []byte) {
	t.Helper()
	ours, std, oerr, serr, _ := bzDecodeBoth(t, data)
	if !errors.Is(serr, io.ErrUnexpectedEOF) {
		t.Fatalf("%s: compress/bzip2 err = %v, want a cut", what, serr)
	}
	if !errors.Is(oerr, io.ErrUnexpectedEOF) {
		t.Fatalf("%s: err = %v, want io.ErrUnexpectedEOF", what, oerr)
	}
	if !bytes.Equal(ours, std) {
		t.Fatalf("%s: %d bytes out, compress/bzip2 gives %d (equal prefix: %v)", what, len(ours), len(std), bytes.HasPrefix(std, ours))
	}
}

// bzTool compresses in with a Debian compressor; a missing tool skips the
// test (fails under CI=true) naming its package.
func bzTool(t *testing.T, in []byte, tool string, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (Debian package %s)", tool, tool)
		}
		t.Skipf("%s not installed (Debian package %s)", tool, tool)
	}
	cmd := exec.Command(tool, args...)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v", tool, args, err)
	}
	return out
}

// noiseText is text with high entropy (hex of a xorshift stream), so bzip2
// output is large and dense: many bit positions where a chance magic could
// occur, and blocks that end at arbitrary bit offsets.
func noiseText(n int) []byte {
	b := make([]byte, 0, n)
	x := uint64(88172645463325252)
	for len(b) < n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b = fmt.Appendf(b, "%016x\n", x)
	}
	return b
}

// fuzzLine is the one MRT text line behind testdata/line.txt.bz2 and
// testdata/concat3.bz2.
const fuzzLine = "TABLE_DUMP2|1400824800|B|12.0.1.63|7018|1.0.0.0/24|7018 3356 15169|15169\n"

// bzFixtures makes the small bzip2 files in testdata with the Debian bzip2
// tool when -update is given.
var bzFixtures = map[string]func(t *testing.T) []byte{
	"line.txt.bz2": func(t *testing.T) []byte { return bzTool(t, []byte(fuzzLine), "bzip2", "-9", "-c") },
	"concat3.bz2": func(t *testing.T) []byte {
		var b []byte
		b = append(b, bzTool(t, []byte(fuzzLine), "bzip2", "-1", "-c")...)
		b = append(b, bzTool(t, nil, "bzip2", "-c")...)
		return append(b, bzTool(t, []byte(fuzzLine), "bzip2", "-3", "-c")...)
	},
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	if make, ok := bzFixtures[name]; ok && *update {
		tt, ok := t.(*testing.T)
		if !ok {
			t.Fatal("-update needs a test, not a fuzz or benchmark run")
		}
		if err := os.WriteFile(filepath.Join("testdata", name), make(tt), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestBzip2Differential checks whole streams from every producer we can
// get against compress/bzip2: byte-identical output and a clean end.
func TestBzip2Differential(t *testing.T) {
	noise := noiseText(1_500_000)
	tests := []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"bzip2 -1: 600 kB of text in 100 kB blocks", func(t *testing.T) []byte { return bzip2Sample(t) }},
		{"bzip2 -9: one short line, one block", func(t *testing.T) []byte { return readTestdata(t, "line.txt.bz2") }},
		{"concatenated streams: bzip2 -1, an empty stream, bzip2 -3 (multistream like bunzip2)", func(t *testing.T) []byte { return readTestdata(t, "concat3.bz2") }},
		{"bzip2 -c of empty input: stream with no block", func(t *testing.T) []byte { return bzTool(t, nil, "bzip2", "-c") }},
		{"bzip2 -9: 1.5 MB of hex noise (dense blocks at odd bit offsets)", func(t *testing.T) []byte { return bzTool(t, noise, "bzip2", "-9", "-c") }},
		{"bzip2 -2: runs of one byte (RLE1 expands a block ~50x)", func(t *testing.T) []byte {
			return bzTool(t, bytes.Repeat([]byte{'a'}, 3_000_000), "bzip2", "-2", "-c")
		}},
		{"pbzip2 -1 -p2: one stream per block", func(t *testing.T) []byte { return bzTool(t, noise, "pbzip2", "-1", "-p2", "-c") }},
		{"lbzip2 -9 -n2", func(t *testing.T) []byte { return bzTool(t, noise, "lbzip2", "-9", "-n2", "-c") }},
		{"RouteViews updates.20260222.1530.route-views2", func(t *testing.T) []byte {
			if testing.Short() {
				t.Skip("decompresses 6.5 MB twice")
			}
			return readShared(t, "mrt/updates.20260222.1530.route-views2.bz2")
		}},
		{"RouteViews updates.20150401.0000.route-views.jinx", func(t *testing.T) []byte {
			return readShared(t, "mrt/updates.20150401.0000.route-views.jinx.bz2")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data(t)
			ours, std, oerr, serr, _ := bzDecodeBoth(t, data)
			if serr != nil {
				t.Fatalf("compress/bzip2: %v", serr)
			}
			if oerr != nil {
				t.Fatalf("err = %v after %d bytes", oerr, len(ours))
			}
			if !bytes.Equal(ours, std) {
				t.Fatalf("%d bytes out, compress/bzip2 gives %d (equal prefix: %v)", len(ours), len(std), bytes.HasPrefix(std, ours))
			}
		})
	}
}

func readShared(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(testutil.SharedData(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestBzip2Cuts cuts valid streams short: at every byte of a small
// concatenated file (header, block, end marker, CRC, padding, next header)
// and at random offsets of multi-block files. Each cut must yield exactly
// the complete blocks compress/bzip2 yields, then io.ErrUnexpectedEOF.
func TestBzip2Cuts(t *testing.T) {
	concat := readTestdata(t, "concat3.bz2")
	for n := 4; n < len(concat); n++ {
		bzCheckWeak(t, fmt.Sprintf("concat3.bz2[:%d]", n), concat[:n])
	}
	// Inside the first stream every cut is a truncation, never junk.
	line := readTestdata(t, "line.txt.bz2")
	for n := 4; n < len(line); n++ {
		bzCheckCut(t, fmt.Sprintf("line.txt.bz2[:%d]", n), line[:n])
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sample := bzip2Sample(t)
	for range 12 {
		n := 4 + rng.IntN(len(sample)-4)
		bzCheckCut(t, fmt.Sprintf("sample.txt.bz2[:%d]", n), sample[:n])
	}
	if _, err := exec.LookPath("pbzip2"); err == nil {
		// One stream per block: cuts land in stream headers and trailers too.
		pb := bzTool(t, noiseText(600_000), "pbzip2", "-1", "-p2", "-c")
		for range 12 {
			n := 4 + rng.IntN(len(pb)-4)
			bzCheckWeak(t, fmt.Sprintf("pbzip2 output[:%d]", n), pb[:n])
		}
	}
}

// TestBzip2Damage flips bits and appends junk: whatever compress/bzip2
// rejects we reject, never ending cleanly with partial or altered output.
func TestBzip2Damage(t *testing.T) {
	concat := readTestdata(t, "concat3.bz2")
	for i := 4; i < len(concat); i++ {
		for _, mask := range []byte{0x01, 0x80} {
			d := bytes.Clone(concat)
			d[i] ^= mask
			bzCheckWeak(t, fmt.Sprintf("concat3.bz2 byte %d ^ %#x", i, mask), d)
		}
	}
	line := readTestdata(t, "line.txt.bz2")
	tests := []struct {
		name string
		data []byte
	}{
		// compress/bzip2 delivers the stream, then rejects the junk.
		{"junk after the end-of-stream CRC", append(bytes.Clone(line), "JUNKJUNK"...)},
		{"one junk byte after the stream", append(bytes.Clone(line), 'X')},
		{"'BZ' then a bad level", append(bytes.Clone(line), "BZh0"...)},
		{"'BZ' then not 'h'", append(bytes.Clone(line), "BZx9"...)},
		{"header then neither block nor end magic", append(bytes.Clone(line), "BZh9\x00\x00\x00\x00\x00\x00\x00\x00"...)},
		{"only a header", []byte("BZh9")},
		{"header with level 0", []byte("BZh0\x31\x41\x59\x26\x53\x59")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, oerr, serr, _ := bzDecodeBoth(t, tt.data)
			if serr == nil || oerr == nil {
				t.Fatalf("err = %v, compress/bzip2 err = %v: both must fail", oerr, serr)
			}
			bzCheckWeak(t, tt.name, tt.data)
		})
	}
}

// TestBzip2ChanceMagic feeds the reader a real block split in two at an
// arbitrary bit, as the scanner does when the block magic occurs by chance
// inside compressed data: the two halves fail to decode, and the reader
// must join them and deliver the block once, then check the stream CRC.
func TestBzip2ChanceMagic(t *testing.T) {
	line := readTestdata(t, "line.txt.bz2")
	want, err := io.ReadAll(stdbzip2.NewReader(bytes.NewReader(line)))
	if err != nil {
		t.Fatal(err)
	}
	blk, eos, end := scanLineBlock(t)
	for _, cut := range []int64{48, 80, 200, blk.nbits - 48, blk.nbits - 1} {
		t.Run(fmt.Sprint("split at bit ", cut), func(t *testing.T) {
			var a, b bitWriter
			a.header(blk.level)
			a.copyBits(blk.wrapped, 32, cut)
			a.trailer(blk.crc)
			b.header(blk.level)
			b.copyBits(blk.wrapped, 32+cut, blk.nbits-cut)
			b.trailer(0)
			items := []*bzItem{
				{kind: bzBlock, level: blk.level, off: blk.off, nbits: cut, crc: blk.crc, wrapped: a.b},
				{kind: bzBlock, level: blk.level, off: blk.off + cut, nbits: blk.nbits - cut, wrapped: b.b},
				eos, end,
			}
			r := &bzip2Reader{order: make(chan *bzItem, len(items)), quit: make(chan struct{})}
			for _, it := range items {
				if it.kind == bzBlock {
					it.done = make(chan bzResult, 1)
					out := new([]byte)
					*out, _, err = decodeBzBlock(it.wrapped, nil, 1<<30)
					if err == nil {
						t.Fatalf("half of a split block decoded")
					}
					it.done <- bzResult{out: out, err: err}
				}
				r.order <- it
			}
			close(r.order)
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

// scanLineBlock scans testdata/line.txt.bz2 and returns its items: one
// block, the stream end and the final item.
func scanLineBlock(t testing.TB) (blk, eos, end *bzItem) {
	t.Helper()
	sc := &bzScanner{r: bytes.NewReader(readTestdata(t, "line.txt.bz2"))}
	order, jobs := make(chan *bzItem, 8), make(chan *bzItem, 8)
	sc.order, sc.jobs, sc.quit = order, jobs, make(chan struct{})
	sc.run()
	blk, eos, end = <-order, <-order, <-order
	if blk.kind != bzBlock || eos.kind != bzStreamEnd || end.kind != bzEnd || end.err != io.EOF {
		t.Fatalf("scanned kinds %v %v %v (%v), want block, stream end, end", blk.kind, eos.kind, end.kind, end.err)
	}
	return blk, eos, end
}

// TestBzip2BitOffsets builds one stream of 9 copies of a block whose
// length is odd (653 bits), so that block magics start at every one of the
// 8 bit offsets within a byte, and the end-of-stream magic after them too;
// the combined CRC is the rotate-xor of the 9 block CRCs. The scanner must
// find every boundary: compress/bzip2 and we give the line 9 times.
func TestBzip2BitOffsets(t *testing.T) {
	blk, _, _ := scanLineBlock(t)
	if blk.nbits%2 == 0 {
		t.Fatalf("block of %d bits: need an odd length to cover all offsets", blk.nbits)
	}
	var w bitWriter
	w.header(blk.level)
	var crc uint32
	seen := map[int64]bool{}
	for range 9 {
		seen[w.n%8] = true
		w.copyBits(blk.wrapped, 32, blk.nbits)
		crc = crc<<1 | crc>>31 ^ blk.crc
	}
	seen[w.n%8] = true
	w.trailer(crc)
	if len(seen) != 8 {
		t.Fatalf("magics at %d distinct bit offsets, want 8", len(seen))
	}
	for n := 4; n <= len(w.b); n += 37 {
		bzCheckWeak(t, fmt.Sprintf("9 blocks[:%d]", n), w.b[:n])
	}
	ours, std, oerr, serr, _ := bzDecodeBoth(t, w.b)
	if serr != nil || oerr != nil {
		t.Fatalf("err = %v, compress/bzip2 err = %v", oerr, serr)
	}
	if want := bytes.Repeat([]byte(fuzzLine), 9); !bytes.Equal(std, want) || !bytes.Equal(ours, want) {
		t.Fatalf("got %d bytes, compress/bzip2 %d, want %d", len(ours), len(std), len(want))
	}
}

// TestBitWriter pins bit re-alignment, the core of block extraction: copying
// n bits from any source offset to any destination offset.
func TestBitWriter(t *testing.T) {
	src := []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0xa5, 0x0f}
	bit := func(b []byte, i int64) byte { return b[i/8] >> (7 - i%8) & 1 }
	for pre := int64(0); pre < 9; pre++ {
		for off := int64(0); off < 16; off++ {
			for n := int64(0); off+n <= 64; n += 7 {
				var w bitWriter
				w.writeUint(0x1ff, uint(pre))
				w.copyBits(src, off, n)
				if w.n != pre+n {
					t.Fatalf("pre %d off %d n %d: wrote %d bits", pre, off, n, w.n)
				}
				for i := range n {
					if bit(w.b, pre+i) != bit(src, off+i) {
						t.Fatalf("pre %d off %d n %d: bit %d differs", pre, off, n, i)
					}
				}
				if int64(len(w.b)) != (pre+n+7)/8 {
					t.Fatalf("pre %d off %d n %d: %d bytes", pre, off, n, len(w.b))
				}
			}
		}
	}
}
