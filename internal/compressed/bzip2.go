package compressed

import (
	"bytes"
	stdbzip2 "compress/bzip2"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"runtime"
	"sync"
)

// bzip2Reader decodes bzip2 blocks in parallel with the standard library's
// decoder. bzip2 blocks are independent but not byte-aligned and carry no
// length, so a scanner goroutine finds each block's 48-bit magic at any bit
// offset, re-aligns the block into a standalone one-block stream
// ("BZh" + level, the block, the end-of-stream magic and a stream CRC equal
// to the block CRC) and hands it to GOMAXPROCS workers running
// compress/bzip2; Read delivers the blocks in order and checks each
// stream's combined CRC as compress/bzip2 does.
//
// Our own scanner replaces github.com/cosnicolaou/pbzip2, whose package
// init built bit-shifted lookup tables for 44-122 ms on every CLI start, and
// whose NewReader lost the complete blocks still in flight on a stream cut
// short. Here every complete block before a cut is delivered, then an error
// wrapping io.ErrUnexpectedEOF, exactly as much as compress/bzip2 yields.
//
// The block magic can also occur by chance inside compressed data (about
// once per 2^48 bit positions). A candidate block that fails to decode is
// therefore merged with the following one and decoded again, up to the
// largest size a real block can have; an end-of-stream candidate not
// followed by end of input or another stream header is accepted only if the
// block before it decodes.
//
// Memory is bounded whatever GOMAXPROCS: W = min(GOMAXPROCS, 8) workers,
// a window of at most 2W+1 blocks in flight, each holding its compressed
// bits (at most 2.3 MB at level 9, typically 0.2-1 MB) and at most
// bzHoldMax (4 MiB) of decoded output, plus W+1 compress/bzip2 decoders
// (about 4.5 MB of state each at level 9) and the scanner's buffer of one
// block: under 160 MB of live data in the worst case, whatever the input.
// A block that decodes to more than bzHoldMax (bzip2's run-length stage
// lets a 900 kB block expand to 46 MB: a decompression bomb) is only
// verified by its worker, its output discarded, and decoded a second time,
// streaming, when Read reaches it; so no byte of a block is delivered
// before the block's CRC was checked. bench/bzip2-bomb.sh measures the peak
// RSS on a 2 GiB bomb (1.5 KB of bzip2): 32, 70, 166 and 197 MB at
// GOMAXPROCS 1, 2, 8 and 16, against 272, 393, 1765 and 3066 MB before the
// bound (RSS includes the garbage the Go heap holds between collections).
// BenchmarkBzip2 measures the gain over compress/bzip2 (1.6-2.3x on 2
// cores, on a par with or ahead of pbzip2).
type bzip2Reader struct {
	order   chan *bzItem // scanned items in stream order; closed by the scanner
	quit    chan struct{}
	wg      sync.WaitGroup
	stopped sync.Once

	pending []*bzItem // items taken from order ahead of time by a merge
	cur     []byte    // unread output of the current block
	curBuf  *[]byte   // its buffer, recycled on the next block
	// big streams the current block when it was too large to hold: a second
	// decode of a block its worker already verified; bigLeft counts the
	// bytes still due from it.
	big     io.Reader
	bigLeft int64
	crc     uint32 // combined CRC of the current stream so far
	err     error  // sticky: io.EOF or the final error
}

const (
	bzBlockMagic = 0x314159265359 // π: starts every block
	bzEOSMagic   = 0x177245385090 // √π: ends every stream
	bzMagicMask  = 1<<48 - 1
	// bzReadChunk is how much the scanner reads from its source at a time.
	bzReadChunk = 64 << 10
)

// bzMaxBlockBytes bounds a real block's compressed size for a level: at
// most level×100000+1 MTF/RLE2 symbols of at most 20 bits each, plus
// selectors and code tables (well under 64 KiB). A candidate longer than
// this cannot be a block, so neither the scanner's buffer nor a merge grows
// past it.
func bzMaxBlockBytes(level byte) int64 {
	return int64(level)*250_000 + 64<<10
}

type bzKind uint8

const (
	bzBlock     bzKind = iota // a candidate block, ended by the next magic
	bzTail                    // the bits before a cut: a block only if it decodes
	bzStreamEnd               // an end-of-stream marker with its combined CRC
	bzEnd                     // the last item: err is io.EOF or the final error
)

// bzItem is one unit of the scanned stream. For blocks, wrapped is the
// standalone one-block stream: 32 header bits, then nbits block bits.
type bzItem struct {
	kind    bzKind
	level   byte
	off     int64 // bit offset of the block magic (or marker) in the input
	nbits   int64
	crc     uint32 // block CRC from the block header, or the stream CRC
	wrapped []byte
	err     error
	done    chan bzResult // a worker's verdict on wrapped, buffered
}

// bzResult is a worker's verdict. out holds the decoded block, or is nil
// when the block decoded to more than bzHoldMax bytes: then n is its size
// and Read decodes it again, streaming.
type bzResult struct {
	out     *[]byte
	n       int64
	err     error
	wrapped []byte // the block to decode again when out is nil
}

// bzHoldMax bounds the decoded output a block in flight holds. Real MRT
// blocks decode to 0.9-1.5 MB; only long runs of one byte (a bomb, a file
// of zeros) exceed it, and those decode fast, so decoding them twice costs
// little.
const bzHoldMax = 4 << 20

// bzMaxWorkers bounds the decoding goroutines, and with them the blocks in
// flight, on machines with many cores: beyond it the consumer (MRT
// decoding) is the bottleneck anyway.
const bzMaxWorkers = 8

// bzOutPool recycles decoded block buffers (at most bzHoldMax each).
var bzOutPool = sync.Pool{New: func() any { b := make([]byte, 0, 1<<20); return &b }}

func newBzip2Reader(r io.Reader) *bzip2Reader {
	workers := min(runtime.GOMAXPROCS(0), bzMaxWorkers)
	b := &bzip2Reader{
		order: make(chan *bzItem, 2*workers+1),
		quit:  make(chan struct{}),
	}
	jobs := make(chan *bzItem)
	b.wg.Add(1 + workers)
	for range workers {
		go func() {
			defer b.wg.Done()
			for {
				select {
				case it, ok := <-jobs:
					if !ok {
						return
					}
					it.done <- decodeBzItem(it)
				case <-b.quit:
					return
				}
			}
		}()
	}
	sc := &bzScanner{r: r, order: b.order, jobs: jobs, quit: b.quit}
	go func() {
		defer b.wg.Done()
		defer close(jobs)
		defer close(b.order)
		sc.run()
	}()
	return b
}

// decodeBzItem decodes a candidate block into a pooled buffer, or only
// verifies it when it decodes to more than bzHoldMax bytes (out nil, n its
// size). A tail (the bits before a cut) is wrapped without a trailer and may
// end with a few bits of whatever followed the block: like compress/bzip2 on
// the original input, the block counts when it decoded and its CRC matched,
// that is when output came out and the error is not a checksum mismatch
// (compress/bzip2 emits a block only after decoding all of it, and checks
// the CRC before reading on).
func decodeBzItem(it *bzItem) bzResult {
	out := bzOutPool.Get().(*[]byte)
	var n int64
	var err error
	*out, n, err = decodeBzBlock(it.wrapped, (*out)[:0], bzHoldMax)
	if len(*out) < int(n) {
		bzOutPool.Put(out)
		out = nil
	}
	if it.kind == bzTail && n > 0 && err != nil && err != errBzBlockCRC {
		err = nil
	}
	if err != nil && out != nil {
		bzOutPool.Put(out)
		out = nil
	}
	return bzResult{out: out, n: n, err: err, wrapped: it.wrapped}
}

var errBzBlockCRC = stdbzip2.StructuralError("block checksum mismatch")

// decodeBzBlock decodes a standalone stream with compress/bzip2, appending
// to out up to hold bytes; past that it goes on decoding, discarding, to
// check the CRCs. It returns the output held (all of it when n <= hold),
// the decoded size n, and nil when every CRC matched.
func decodeBzBlock(wrapped, out []byte, hold int) ([]byte, int64, error) {
	zr := stdbzip2.NewReader(bytes.NewReader(wrapped))
	for len(out) < hold {
		if len(out) == cap(out) {
			out = append(out, 0)[:len(out)]
		}
		n, err := zr.Read(out[len(out):min(cap(out), hold)])
		out = out[:len(out)+n]
		if err == io.EOF {
			return out, int64(len(out)), nil
		}
		if err != nil {
			return out, int64(len(out)), err
		}
	}
	n, err := io.CopyBuffer(io.Discard, zr, make([]byte, 64<<10))
	return out, int64(len(out)) + n, err
}

func (b *bzip2Reader) Read(p []byte) (int, error) {
	for len(b.cur) == 0 && b.big == nil {
		if b.err != nil {
			return 0, b.err
		}
		b.next()
	}
	if b.big != nil {
		return b.readBig(p)
	}
	n := copy(p, b.cur)
	b.cur = b.cur[n:]
	return n, nil
}

// readBig streams a block too large to hold. Its worker decoded it whole
// and checked its CRC, so the second decode yields the same bytes; the
// error that ends it (io.EOF, or for a tail whatever followed the block) is
// not the stream's.
func (b *bzip2Reader) readBig(p []byte) (int, error) {
	if int64(len(p)) > b.bigLeft {
		p = p[:b.bigLeft]
	}
	n, err := b.big.Read(p)
	b.bigLeft -= int64(n)
	if b.bigLeft == 0 {
		b.big = nil
		return n, nil
	}
	if err != nil {
		b.big = nil
		b.err = fmt.Errorf("bzip2 block decoded differently the second time: %w", err)
		b.stop()
	}
	return n, nil
}

// take returns the next item in stream order.
func (b *bzip2Reader) take() *bzItem {
	if len(b.pending) > 0 {
		it := b.pending[0]
		b.pending = b.pending[1:]
		return it
	}
	it, ok := <-b.order
	if !ok {
		// The scanner always ends with a bzEnd item; this is a bug.
		return &bzItem{kind: bzEnd, err: errors.New("bzip2 scanner stopped without a verdict")}
	}
	return it
}

// peek returns the i-th item after the current one without consuming it.
func (b *bzip2Reader) peek(i int) *bzItem {
	for len(b.pending) <= i {
		it, ok := <-b.order
		if !ok {
			it = &bzItem{kind: bzEnd, err: errors.New("bzip2 scanner stopped without a verdict")}
		}
		b.pending = append(b.pending, it)
	}
	return b.pending[i]
}

// next makes the next block's output current, or sets b.err.
func (b *bzip2Reader) next() {
	if b.curBuf != nil {
		bzOutPool.Put(b.curBuf)
		b.curBuf = nil
	}
	it := b.take()
	switch it.kind {
	case bzEnd:
		b.err = it.err
	case bzStreamEnd:
		if it.crc != b.crc {
			b.err = &offsetError{it.off / 8, fmt.Errorf("end of stream at byte offset %d: combined CRC %08x, computed %08x: %w",
				it.off/8, it.crc, b.crc, stdbzip2.StructuralError("file checksum mismatch"))}
			b.stop()
		}
		b.crc = 0
	case bzBlock, bzTail:
		res := <-it.done
		if res.err != nil {
			var ok bool
			if res, ok = b.merge(it, res.err); !ok {
				return
			}
		}
		b.crc = bits.RotateLeft32(b.crc, 1) ^ it.crc
		if res.out == nil {
			b.big = stdbzip2.NewReader(bytes.NewReader(res.wrapped))
			b.bigLeft = res.n
			return
		}
		b.curBuf, b.cur = res.out, *res.out
	}
}

// merge handles a candidate block that failed to decode: a chance block
// magic inside it may have cut it short, so it is joined with the following
// candidates, one at a time, while the result can still be a block. The
// joined candidates are consumed. When no join decodes, the original error
// is final (or, if the input ended, the truncation that follows).
//
// A tail that fails is a cut inside a block: the bzEnd that follows reports
// the truncation; but a tail holding a whole block whose CRC does not match
// is corrupt, and so is a block that fails alone and joined with what
// follows up to the cut (a chance magic inside the cut block would explain
// it only once in 2^48 bits; a damaged block explains it every time).
func (b *bzip2Reader) merge(it *bzItem, first error) (bzResult, bool) {
	corrupt := func() (bzResult, bool) {
		b.err = &offsetError{it.off / 8, fmt.Errorf("block at byte offset %d (bit %d): %w", it.off/8, it.off, first)}
		b.stop()
		return bzResult{}, false
	}
	if it.kind == bzTail {
		if first == errBzBlockCRC {
			return corrupt()
		}
		return bzResult{}, false
	}
	acc := it
	for {
		nx := b.peek(0)
		if (nx.kind != bzBlock && nx.kind != bzTail) ||
			(acc.nbits+nx.nbits)/8 > bzMaxBlockBytes(acc.level) {
			return corrupt()
		}
		b.take()
		joined := joinBzItems(acc, nx)
		if res := decodeBzItem(joined); res.err == nil {
			res.wrapped = joined.wrapped
			return res, true
		}
		if nx.kind == bzTail {
			return corrupt()
		}
		acc = joined
	}
}

// joinBzItems returns the candidate spanning a and the b right after it.
func joinBzItems(a, b *bzItem) *bzItem {
	var w bitWriter
	w.b = make([]byte, 0, (a.nbits+b.nbits)/8+16)
	w.header(a.level)
	w.copyBits(a.wrapped, 32, a.nbits)
	w.copyBits(b.wrapped, 32, b.nbits)
	if b.kind != bzTail {
		w.trailer(a.crc)
	}
	return &bzItem{kind: b.kind, level: a.level, off: a.off, nbits: a.nbits + b.nbits, crc: a.crc, wrapped: w.b}
}

func (b *bzip2Reader) stop() { b.stopped.Do(func() { close(b.quit) }) }

// Close stops the scanner and workers and waits for them. A scanner blocked
// reading its source returns when the source is closed (File.Close closes
// it after stopping the pipe; NewReader's caller owns it).
func (b *bzip2Reader) Close() error {
	b.stop()
	if b.err == nil {
		b.err = errors.New("read after Close")
	}
	b.wg.Wait()
	return nil
}

// bzScanner splits the input into candidate blocks. data holds the input
// from absolute byte offset base on; the current candidate starts at bit
// start (>= base*8).
type bzScanner struct {
	r     io.Reader
	order chan<- *bzItem
	jobs  chan<- *bzItem
	quit  <-chan struct{}

	data   []byte
	base   int64
	eof    bool
	rerr   error // a read error other than io.EOF
	header [4]byte
}

// fill makes bytes up to absolute offset end available; false when the
// input ends (or fails) first.
func (s *bzScanner) fill(end int64) bool {
	for s.base+int64(len(s.data)) < end {
		if s.eof {
			return false
		}
		if cap(s.data)-len(s.data) < bzReadChunk {
			n := make([]byte, len(s.data), 2*len(s.data)+bzReadChunk)
			copy(n, s.data)
			s.data = n
		}
		m, err := s.r.Read(s.data[len(s.data):cap(s.data)])
		s.data = s.data[:len(s.data)+m]
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.rerr = err
			}
		}
	}
	return true
}

// discard drops input before absolute byte offset off.
func (s *bzScanner) discard(off int64) {
	if off > s.base {
		s.data = s.data[off-s.base:]
		s.base = off
	}
}

func (s *bzScanner) end() int64 { return s.base + int64(len(s.data)) }

// bitsAt reads n <= 56 bits at absolute bit offset pos (which must be
// buffered).
func (s *bzScanner) bitsAt(pos int64, n uint) uint64 {
	i := pos/8 - s.base
	var v uint64
	k := 0
	for ; k < 8 && int(i)+k < len(s.data); k++ {
		v = v<<8 | uint64(s.data[int(i)+k])
	}
	v <<= 8 * uint(8-k)
	return v << uint(pos%8) >> (64 - n)
}

func (s *bzScanner) send(it *bzItem) bool {
	select {
	case s.order <- it:
	case <-s.quit:
		return false
	}
	if it.kind == bzBlock || it.kind == bzTail {
		select {
		case s.jobs <- it:
		case <-s.quit:
			return false
		}
	}
	return true
}

// finish sends the final item.
func (s *bzScanner) finish(err error) { s.send(&bzItem{kind: bzEnd, err: err}) }

// truncated is the error for input that ends inside a stream.
func (s *bzScanner) truncated() error {
	if s.rerr != nil {
		return fmt.Errorf("reading at byte offset %d: %w", s.end(), s.rerr)
	}
	return &offsetError{s.end(), fmt.Errorf("stream ends at byte offset %d without end-of-stream marker: %w", s.end(), io.ErrUnexpectedEOF)}
}

// block wraps input bits [start, stop) as a standalone one-block stream
// (a tail without the trailer, see decodeBzItem).
func (s *bzScanner) block(kind bzKind, level byte, start, stop int64) *bzItem {
	it := &bzItem{kind: kind, level: level, off: start, nbits: stop - start, done: make(chan bzResult, 1)}
	if it.nbits >= 80 {
		it.crc = uint32(s.bitsAt(start+48, 32))
	}
	var w bitWriter
	w.b = make([]byte, 0, it.nbits/8+16)
	w.header(level)
	w.copyBits(s.data, start-8*s.base, it.nbits)
	if kind != bzTail {
		w.trailer(it.crc)
	}
	it.wrapped = w.b
	return it
}

// run scans stream after stream until the input ends or is found corrupt;
// the last item sent is always bzEnd.
func (s *bzScanner) run() {
	var pos int64 // bit offset of the next stream header
	for first := true; ; first = false {
		h := pos / 8
		if !s.fill(h + 4) {
			switch {
			case s.rerr != nil:
				s.finish(s.truncated())
			case !first && s.end() == h:
				s.finish(io.EOF)
			case s.end() > h && !bytes.HasPrefix([]byte("BZh"), s.data[h-s.base:]):
				s.finish(&offsetError{h, fmt.Errorf("byte offset %d: %w", h, stdbzip2.StructuralError("bad magic value in continuation file"))})
			default:
				s.finish(&offsetError{h, fmt.Errorf("stream header at byte offset %d cut short: %w", h, io.ErrUnexpectedEOF)})
			}
			return
		}
		hd := s.data[h-s.base : h-s.base+4]
		if hd[0] != 'B' || hd[1] != 'Z' {
			s.finish(&offsetError{h, fmt.Errorf("byte offset %d: %w", h, stdbzip2.StructuralError("bad magic value in continuation file"))})
			return
		}
		if hd[2] != 'h' {
			s.finish(&offsetError{h, fmt.Errorf("byte offset %d: %w", h+2, stdbzip2.StructuralError("non-Huffman entropy encoding"))})
			return
		}
		if hd[3] < '1' || hd[3] > '9' {
			s.finish(&offsetError{h, fmt.Errorf("byte offset %d: %w", h+3, stdbzip2.StructuralError("invalid compression level"))})
			return
		}
		level := hd[3] - '0'
		pos += 32
		if !s.fill((pos + 48 + 7) / 8) {
			s.finish(s.truncated())
			return
		}
		switch s.bitsAt(pos, 48) {
		case bzEOSMagic:
			next, ok := s.streamEnd(level, -1, pos)
			if !ok {
				return
			}
			pos = next
			continue
		case bzBlockMagic:
		default:
			s.finish(&offsetError{pos / 8, fmt.Errorf("bit offset %d (byte %d): %w", pos, pos/8, stdbzip2.StructuralError("bad magic value found"))})
			return
		}
		next, ok := s.blocks(level, pos)
		if !ok {
			return
		}
		pos = next
	}
}

// bzPairs is a bitset of the values bytes 1 and 2 take (as a big-endian
// uint16) in a block or end-of-stream magic starting at any of the 8 bit
// offsets of byte 0: both bytes lie wholly inside the 48-bit magic whatever
// the offset. A position whose pair is not in the set cannot start a magic,
// so the scan tests the 8 offsets only at about 16 in 65536 positions.
var bzPairs = func() (t [1 << 16 / 64]uint64) {
	for _, m := range []uint64{bzBlockMagic, bzEOSMagic} {
		for k := range 8 {
			p := m << (16 - k) >> 40 & 0xffff
			t[p/64] |= 1 << (p % 64)
		}
	}
	return t
}()

// blocks sends the candidate blocks of one stream, the first starting at
// bit start, and its end marker. It returns the bit offset of the next
// stream header, or false once the final item has been sent.
func (s *bzScanner) blocks(level byte, start int64) (int64, bool) {
	maxBits := 8 * bzMaxBlockBytes(level)
	from := start + 48 // candidates start at or after from
	i := from / 8      // next byte at which a candidate may start
	for {
		if i+8 > s.end() && !s.fill(i+8) && i+6 > s.end() {
			// No magic fits in what is left: the input was cut.
			if s.rerr == nil {
				if !s.send(s.block(bzTail, level, start, 8*s.end())) {
					return 0, false
				}
			}
			s.finish(s.truncated())
			return 0, false
		}
		// v holds bytes i..i+7 (zero past the end of input).
		var v uint64
		if d := s.data[i-s.base:]; len(d) >= 8 {
			v = binary.BigEndian.Uint64(d)
		} else {
			var pad [8]byte
			copy(pad[:], d)
			v = binary.BigEndian.Uint64(pad[:])
		}
		i++
		if p := v >> 40 & 0xffff; bzPairs[p/64]&(1<<(p%64)) != 0 {
			for k := range int64(8) {
				at := 8*(i-1) + k
				if at < from || at+48 > 8*s.end() {
					continue
				}
				switch v >> (16 - k) & bzMagicMask {
				case bzBlockMagic:
					if !s.send(s.block(bzBlock, level, start, at)) {
						return 0, false
					}
					s.discard(at / 8)
					start, from = at, at+48
				case bzEOSMagic:
					next, ok := s.streamEnd(level, start, at)
					if !ok {
						return 0, false
					}
					if next >= 0 {
						return next, true
					}
					// A chance EOS magic inside the block: keep scanning.
					from = at + 1
				}
			}
		}
		if 8*i-start > maxBits {
			s.finish(&offsetError{start / 8, fmt.Errorf("bit offset %d (byte %d): no block boundary within %d bytes: %w",
				start, start/8, maxBits/8, stdbzip2.StructuralError("bad magic value found"))})
			return 0, false
		}
	}
}

// streamEnd handles an end-of-stream magic at bit at, after the block
// starting at start (-1 for an empty stream). It returns the next stream's
// header offset; -1 and true when the magic is a chance occurrence inside
// the block; false once the final item has been sent.
func (s *bzScanner) streamEnd(level byte, start, at int64) (int64, bool) {
	trailerEnd := (at + 80 + 7) / 8 // the byte after CRC and padding
	haveTrailer := s.fill(trailerEnd)
	if !haveTrailer && s.rerr == nil && start >= 0 {
		// Cut inside the 32-bit CRC: the block may still be complete.
		if s.send(s.block(bzTail, level, start, at)) {
			s.finish(s.truncated())
		}
		return 0, false
	}
	if !haveTrailer {
		s.finish(s.truncated())
		return 0, false
	}
	s.fill(trailerEnd + 4)
	next := s.data[trailerEnd-s.base:]
	ends := len(next) == 0 && s.rerr == nil
	header := len(next) >= 4 && next[0] == 'B' && next[1] == 'Z' && next[2] == 'h' && next[3] >= '1' && next[3] <= '9'
	cut := len(next) < 4 && bytes.HasPrefix([]byte("BZh"), next)
	if !ends && !header && !cut && start >= 0 {
		// Junk after the marker: either a chance magic inside the block
		// or a real end followed by junk. Only a real end leaves a block
		// that decodes.
		blk := s.block(bzBlock, level, start, at)
		if _, _, err := decodeBzBlock(blk.wrapped, nil, 0); err != nil {
			return -1, true
		}
	}
	if start >= 0 && !s.send(s.block(bzBlock, level, start, at)) {
		return 0, false
	}
	if !s.send(&bzItem{kind: bzStreamEnd, off: at, crc: uint32(s.bitsAt(at+48, 32))}) {
		return 0, false
	}
	s.discard(trailerEnd)
	switch {
	case header:
		return 8 * trailerEnd, true
	case ends:
		s.finish(io.EOF)
	default:
		// run reports the cut or the junk at the next header.
		return 8 * trailerEnd, true
	}
	return 0, false
}

// bitWriter appends bits MSB first.
type bitWriter struct {
	b []byte
	n int64 // bits written
}

func (w *bitWriter) header(level byte) {
	w.b = append(w.b, 'B', 'Z', 'h', '0'+level)
	w.n = 32
}

// trailer ends a one-block stream: its combined CRC equals the block CRC.
func (w *bitWriter) trailer(crc uint32) {
	w.writeUint(bzEOSMagic, 48)
	w.writeUint(uint64(crc), 32)
}

func (w *bitWriter) writeByte(v byte) {
	if r := w.n & 7; r == 0 {
		w.b = append(w.b, v)
	} else {
		w.b[len(w.b)-1] |= v >> r
		w.b = append(w.b, v<<(8-r))
	}
	w.n += 8
}

func (w *bitWriter) writeBit(v byte) {
	if w.n&7 == 0 {
		w.b = append(w.b, 0)
	}
	w.b[len(w.b)-1] |= (v & 1) << (7 - w.n&7)
	w.n++
}

func (w *bitWriter) writeUint(v uint64, n uint) {
	for ; n >= 8; n -= 8 {
		w.writeByte(byte(v >> (n - 8)))
	}
	for ; n > 0; n-- {
		w.writeBit(byte(v >> (n - 1)))
	}
}

// copyBits appends n bits of src starting at bit off.
func (w *bitWriter) copyBits(src []byte, off, n int64) {
	i, r := off/8, uint(off%8)
	if r == 0 && w.n&7 == 0 {
		full := n / 8
		w.b = append(w.b, src[i:i+full]...)
		w.n += 8 * full
		off += 8 * full
		n -= 8 * full
	} else {
		for ; n >= 8; n -= 8 {
			v := src[i]
			if r != 0 {
				v = v<<r | src[i+1]>>(8-r)
			}
			w.writeByte(v)
			i++
		}
		off = 8*i + int64(r)
	}
	for ; n > 0; n-- {
		w.writeBit(src[off/8] >> (7 - off%8))
		off++
	}
}
