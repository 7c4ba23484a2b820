package compressed

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// Deflate decoders built for speed, klauspost/compress/flate and
// compress/flate alike, read ahead: they want the bits of the longest
// possible code before decoding the next symbol (up to 15 bits, plus extra
// bits). On a stream cut short the last few symbols, whose bits are all
// there, are never decoded: a gzip file cut mid-stream lost up to 44 bytes
// that zcat delivers (the PCH table cut at 998195 bytes lost its last
// complete MRT record). exactInflater is a slow decoder in the style of
// zlib's puff.c that reads only the bits each symbol needs; gzipTail runs
// it over the file again from the start when the fast decoder reports a
// cut, and delivers what lies beyond the fast decoder's output. A cut is
// rare, so the second pass (about 40 MB/s) costs nothing on whole files.

// gzipTail is the gzip decoder: klauspost's for speed, then on a cut the
// exact decoder over the same bytes when they can be read again (a file;
// not a pipe).
type gzipTail struct {
	zr *gzip.Reader
	// br is what zr reads from, a flate.Reader, so zr reads no byte past
	// a member's trailer: what br still holds after a member's end is the
	// next member, or damage (see nextMember).
	br   *bufio.Reader
	cut  error       // a cut found with data in hand, reported on the next call
	src  io.ReaderAt // nil when the input cannot be read again
	size int64
	out  int64 // bytes delivered by zr

	tail *exactInflater // the second pass, once zr reported the cut
	skip int64          // output of the second pass still to drop
	err  error          // sticky
}

func (g *gzipTail) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.tail == nil {
		var n int
		var err error
		if g.cut != nil {
			err = g.cut // held back from the call that returned the data before it
		} else {
			n, err = g.zr.Read(p)
			g.out += int64(n)
		}
		// A loop, not a recursion: a file can hold millions of empty members.
		for err == io.EOF {
			next := g.nextMember()
			if next == io.EOF {
				break // the last member ended with the data
			}
			if err = next; err == nil && n == 0 {
				n, err = g.zr.Read(p)
				g.out += int64(n)
			}
		}
		if err == nil || err == io.EOF || !errors.Is(err, io.ErrUnexpectedEOF) || g.src == nil {
			if err != nil {
				g.err = err
			}
			return n, err
		}
		if n > 0 {
			g.cut = err // reported on the next call (zr may not say it again)
			return n, nil
		}
		g.tail = newExactInflater(bufio.NewReaderSize(io.NewSectionReader(g.src, 0, g.size), 64<<10))
		g.skip = g.out
	}
	for {
		n, err := g.tail.Read(p)
		if g.skip > 0 {
			drop := min(int64(n), g.skip)
			g.skip -= drop
			n = copy(p, p[drop:n])
		}
		if err != nil {
			// The second pass sees the same cut; should it fail otherwise
			// (the file changed under us), that is the error.
			g.err = err
			if g.skip > 0 {
				g.err = fmt.Errorf("re-reading the cut gzip stream: %d bytes short of the first pass: %w", g.skip, err)
			}
			return n, g.err
		}
		g.out += int64(n)
		if n > 0 {
			return n, nil
		}
	}
}

func (g *gzipTail) Close() error { return g.zr.Close() }

// nextMember starts the member that follows the one zr just ended, and
// returns io.EOF when none does. RFC 1952 §2.2: "A gzip file consists of
// a series of "members" (compressed data sets)": bytes after a member
// that do not begin a sound one are damage, never the end of the data.
// (klauspost's own multistream mode ends the stream without an error when
// such a header is cut inside its optional fields, which hid a damaged
// last member.)
func (g *gzipTail) nextMember() error {
	if _, err := g.br.Peek(1); err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return err
	}
	if err := g.zr.Reset(g.br); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the header began: it was cut
		}
		return fmt.Errorf("gzip member after %d bytes of output: %w", g.out, err)
	}
	g.zr.Multistream(false)
	return nil
}

// exactInflater decodes gzip members (RFC 1952) of deflate data (RFC 1951)
// one bit at a time, never reading a byte before a symbol needs it. It
// does not check the members' CRCs: it only runs after the fast decoder
// checked every member before the cut.
type exactInflater struct {
	r      io.ByteReader
	bitbuf uint32
	bitcnt uint
	hist   [1 << 15]byte // the last 32 KiB of output
	hpos   int
	buf    []byte // output decoded but not yet handed out
	state  int    // 0: member header, 1: block header, 2: in a block, 3: trailer
	final  bool
	// the current block
	stored          int // bytes left in a stored block, -1 for Huffman
	lit, dist       *huffman
	copyLen, copyAt int // a match being copied
	err             error
}

func newExactInflater(r io.ByteReader) *exactInflater {
	return &exactInflater{r: r, buf: make([]byte, 0, 64<<10)}
}

var errInflate = errors.New("invalid deflate data")

func (d *exactInflater) byte() (byte, error) {
	b, err := d.r.ReadByte()
	if err == io.EOF {
		return 0, io.ErrUnexpectedEOF
	}
	return b, err
}

func (d *exactInflater) bits(n uint) (uint32, error) {
	for d.bitcnt < n {
		b, err := d.byte()
		if err != nil {
			return 0, err
		}
		d.bitbuf |= uint32(b) << d.bitcnt
		d.bitcnt += 8
	}
	v := d.bitbuf & (1<<n - 1)
	d.bitbuf >>= n
	d.bitcnt -= n
	return v, nil
}

func (d *exactInflater) emit(b byte) {
	d.hist[d.hpos] = b
	d.hpos = (d.hpos + 1) & (len(d.hist) - 1)
	d.buf = append(d.buf, b)
}

// Read hands out decoded bytes; on a cut, all bytes whose bits are in the
// input, then an error wrapping io.ErrUnexpectedEOF.
func (d *exactInflater) Read(p []byte) (int, error) {
	for len(d.buf) == 0 && d.err == nil {
		d.err = d.step()
	}
	n := copy(p, d.buf)
	d.buf = d.buf[:copy(d.buf, d.buf[n:])]
	if n > 0 || d.err == nil {
		return n, nil
	}
	return 0, d.err
}

// step decodes until some output is buffered (or a member ends).
func (d *exactInflater) step() error {
	for len(d.buf) < cap(d.buf)/2 {
		switch d.state {
		case 0:
			b, err := d.r.ReadByte()
			if err == io.EOF {
				return io.EOF // between members: the end
			}
			if err != nil {
				return err
			}
			if err := d.header(b); err != nil {
				return err
			}
			d.state, d.final = 1, false
		case 1:
			if d.final {
				d.bitbuf, d.bitcnt = 0, 0 // the trailer starts on a byte
				for range 8 {
					if _, err := d.byte(); err != nil {
						return err
					}
				}
				d.state = 0
				continue
			}
			if err := d.blockHeader(); err != nil {
				return err
			}
			d.state = 2
		case 2:
			done, err := d.block()
			if err != nil {
				return err
			}
			if done {
				d.state = 1
			}
		}
	}
	return nil
}

// header reads a gzip member header (RFC 1952 §2.3) after its first byte.
func (d *exactInflater) header(id1 byte) error {
	var h [9]byte
	for i := range h {
		b, err := d.byte()
		if err != nil {
			return err
		}
		h[i] = b
	}
	if id1 != 0x1f || h[0] != 0x8b || h[1] != 8 {
		return fmt.Errorf("gzip member header: %w", errInflate)
	}
	flg := h[2]
	if flg&4 != 0 { // FEXTRA
		lo, err := d.byte()
		if err != nil {
			return err
		}
		hi, err := d.byte()
		if err != nil {
			return err
		}
		for range int(lo) | int(hi)<<8 {
			if _, err := d.byte(); err != nil {
				return err
			}
		}
	}
	for _, f := range []byte{8, 16} { // FNAME, FCOMMENT: zero-terminated
		if flg&f == 0 {
			continue
		}
		for {
			b, err := d.byte()
			if err != nil {
				return err
			}
			if b == 0 {
				break
			}
		}
	}
	if flg&2 != 0 { // FHCRC
		for range 2 {
			if _, err := d.byte(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *exactInflater) blockHeader() error {
	v, err := d.bits(3)
	if err != nil {
		return err
	}
	d.final = v&1 != 0
	switch v >> 1 {
	case 0: // stored (RFC 1951 §3.2.4)
		d.bitbuf, d.bitcnt = 0, 0
		var l [4]byte
		for i := range l {
			if l[i], err = d.byte(); err != nil {
				return err
			}
		}
		n := int(l[0]) | int(l[1])<<8
		if n != ^(int(l[2])|int(l[3])<<8)&0xffff {
			return fmt.Errorf("stored block length: %w", errInflate)
		}
		d.stored = n
	case 1: // fixed Huffman codes (§3.2.6)
		d.stored, d.lit, d.dist = -1, &fixedLit, &fixedDist
	case 2: // dynamic (§3.2.7)
		d.stored = -1
		return d.dynamic()
	default:
		return fmt.Errorf("block type 3: %w", errInflate)
	}
	return nil
}

var clOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func (d *exactInflater) dynamic() error {
	v, err := d.bits(14)
	if err != nil {
		return err
	}
	nlen, ndist, ncode := int(v&31)+257, int(v>>5&31)+1, int(v>>10)+4
	if nlen > 286 || ndist > 30 {
		return fmt.Errorf("code counts: %w", errInflate)
	}
	var lengths [320]uint8
	for i := range ncode {
		l, err := d.bits(3)
		if err != nil {
			return err
		}
		lengths[clOrder[i]] = uint8(l)
	}
	var cl huffman
	if !cl.build(lengths[:19]) {
		return fmt.Errorf("code length code: %w", errInflate)
	}
	clear(lengths[:19])
	for i := 0; i < nlen+ndist; {
		sym, err := d.decode(&cl)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep uint8
		var n uint32
		switch sym {
		case 16:
			if i == 0 {
				return fmt.Errorf("repeat with no previous length: %w", errInflate)
			}
			rep = lengths[i-1]
			n, err = d.bits(2)
			n += 3
		case 17:
			n, err = d.bits(3)
			n += 3
		default:
			n, err = d.bits(7)
			n += 11
		}
		if err != nil {
			return err
		}
		if i+int(n) > nlen+ndist {
			return fmt.Errorf("code lengths overrun: %w", errInflate)
		}
		for range n {
			lengths[i] = rep
			i++
		}
	}
	d.lit, d.dist = new(huffman), new(huffman)
	if !d.lit.build(lengths[:nlen]) || !d.dist.build(lengths[nlen:nlen+ndist]) {
		return fmt.Errorf("literal/length or distance code: %w", errInflate)
	}
	return nil
}

var (
	lenBase   = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// block decodes some of the current block; done when it ended.
func (d *exactInflater) block() (bool, error) {
	if d.stored >= 0 {
		for ; d.stored > 0 && len(d.buf) < cap(d.buf); d.stored-- {
			b, err := d.byte()
			if err != nil {
				return false, err
			}
			d.emit(b)
		}
		return d.stored == 0, nil
	}
	for len(d.buf) < cap(d.buf)-258 {
		sym, err := d.decode(d.lit)
		if err != nil {
			return false, err
		}
		switch {
		case sym < 256:
			d.emit(byte(sym))
			continue
		case sym == 256:
			return true, nil
		case sym > 285:
			return false, fmt.Errorf("length symbol %d: %w", sym, errInflate)
		}
		sym -= 257
		e, err := d.bits(uint(lenExtra[sym]))
		if err != nil {
			return false, err
		}
		n := int(lenBase[sym]) + int(e)
		ds, err := d.decode(d.dist)
		if err != nil {
			return false, err
		}
		if ds > 29 {
			return false, fmt.Errorf("distance symbol %d: %w", ds, errInflate)
		}
		e, err = d.bits(uint(distExtra[ds]))
		if err != nil {
			return false, err
		}
		dist := int(distBase[ds]) + int(e)
		for range n {
			d.emit(d.hist[(d.hpos-dist)&(len(d.hist)-1)])
		}
	}
	return false, nil
}

// huffman is a canonical code as puff.c keeps it: how many codes of each
// length, and the symbols in code order.
type huffman struct {
	count  [16]uint16
	symbol [288]uint16
}

// build makes the code from code lengths; false for an over-subscribed
// set (an incomplete one is allowed, as zlib allows it for one code).
func (h *huffman) build(lengths []uint8) bool {
	h.count = [16]uint16{}
	for _, l := range lengths {
		h.count[l]++
	}
	if int(h.count[0]) == len(lengths) {
		return true // no codes: decoding fails if one is used
	}
	left := 1
	for l := 1; l < 16; l++ {
		left <<= 1
		left -= int(h.count[l])
		if left < 0 {
			return false
		}
	}
	var offs [16]uint16
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = uint16(sym)
			offs[l]++
		}
	}
	return true
}

// decode reads one symbol, bit by bit: exactly the bits of its code.
func (d *exactInflater) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := d.bits(1)
		if err != nil {
			return 0, err
		}
		code |= int(b)
		count := int(h.count[l])
		if code-count < first {
			return int(h.symbol[index+code-first]), nil
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, fmt.Errorf("no such code: %w", errInflate)
}

var fixedLit, fixedDist = func() (lit, dist huffman) {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	lit.build(l[:])
	var dl [30]uint8
	for i := range dl {
		dl[i] = 5
	}
	dist.build(dl[:])
	return lit, dist
}()
