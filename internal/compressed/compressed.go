// Package compressed opens route and VRP archives whatever their compression:
// gzip, bzip2, xz, zstd or none, told apart by their first bytes (never by
// the file name, since collectors and mirrors rename files freely).
//
// Decompression runs in its own goroutine and hands over large buffers, so
// that on a multi-core machine it overlaps with decoding the stream. bzip2,
// the slowest and the format RouteViews publishes, is decoded block-parallel
// by our own block scanner over compress/bzip2 (bzip2.go); on a truncated
// stream every complete block before the cut is delivered, then
// io.ErrUnexpectedEOF.
//
// A damaged stream is reported as an *Error saying whether it was cut short
// (Truncated, wrapping io.ErrUnexpectedEOF) or is corrupt (Corrupt: a CRC
// mismatch, an invalid code, junk after a stream), where in the compressed
// input that was found, and how many decompressed bytes came before it, so
// that a caller can say what was lost. Errors reading the source itself (a
// failing disk) are not *Error: they are not a property of the file.
package compressed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Format is a compression format recognised by its magic bytes.
type Format uint8

const (
	Raw Format = iota // no known magic: passed through unchanged
	Gzip
	Bzip2
	XZ
	Zstd
)

func (f Format) String() string {
	switch f {
	case Gzip:
		return "gzip"
	case Bzip2:
		return "bzip2"
	case XZ:
		return "xz"
	case Zstd:
		return "zstd"
	}
	return "raw"
}

var (
	magicGzip  = []byte{0x1f, 0x8b}                     // RFC 1952 §2.3.1 ID1 ID2
	magicBzip2 = []byte("BZh")                          // bzip2 stream header
	magicXZ    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00} // xz file format §2.1.1.1
	magicZstd  = []byte{0x28, 0xb5, 0x2f, 0xfd}         // RFC 8878 §3.1.1 (LE 0xFD2FB528)
	magicLen   = len(magicXZ)                           // longest magic
)

// Detect names the compression format whose magic bytes start head; Raw when
// none matches (including a head shorter than any magic). An uncompressed MRT
// file starts with a timestamp, which for any date after 1991 cannot begin
// with 0x1f 0x8b, "BZh", 0xfd or 0x28 0xb5.
func Detect(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, magicGzip):
		return Gzip
	case bytes.HasPrefix(head, magicBzip2):
		return Bzip2
	case bytes.HasPrefix(head, magicXZ):
		return XZ
	case bytes.HasPrefix(head, magicZstd):
		return Zstd
	}
	return Raw
}

// Damage says how a stream is damaged.
type Damage uint8

const (
	// Truncated: the input ends inside the stream (a partial download, a
	// file still being written). Everything before the cut was delivered.
	Truncated Damage = iota + 1
	// Corrupt: the input contradicts itself (a checksum mismatch, an
	// invalid code, junk where a stream header should be). Nothing after
	// the damage is delivered; for bzip2 nothing of the damaged block.
	Corrupt
)

func (d Damage) String() string {
	switch d {
	case Truncated:
		return "truncated"
	case Corrupt:
		return "corrupt"
	}
	return "unknown"
}

// MarshalText renders d as "truncated" or "corrupt".
func (d Damage) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Error is a damaged compressed stream, as File.Read returns it: a caller
// branches on it with errors.As to tell partial input from an I/O failure.
// Truncated errors wrap io.ErrUnexpectedEOF; Corrupt ones never do.
type Error struct {
	Name   string // the file, "stdin" or "input"
	Format Format
	Damage Damage
	// Offset is the compressed byte offset of the damage: the start of the
	// damaged bzip2 block (or marker), else how far the decoder had read
	// when it failed (the end of input for a cut). Size-Offset compressed
	// bytes were not turned into output.
	Offset int64
	// Size is the compressed size, -1 when unknown (a pipe).
	Size int64
	// Out is the number of decompressed bytes delivered before the error:
	// the offset of the damage in the decompressed stream.
	Out int64
	Err error // the decoder's own error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s: %s at compressed byte %d, after %d bytes of output: %v",
		e.Name, e.Format, e.Damage, e.Offset, e.Out, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Unread is the number of compressed bytes at or after the damage (Size
// minus Offset), or -1 when the size is unknown. For a cut file it is 0:
// the missing part is not in the file.
func (e *Error) Unread() int64 {
	if e.Size < 0 || e.Offset > e.Size {
		return -1
	}
	return e.Size - e.Offset
}

// offsetError carries the compressed offset a decoder knows better than the
// File's byte counter (bzip2 knows the damaged block).
type offsetError struct {
	off int64
	err error
}

func (e *offsetError) Error() string { return e.err.Error() }
func (e *offsetError) Unwrap() error { return e.err }

// File is an opened, possibly compressed input: reading it yields the
// decompressed stream. Size and Pos are in compressed bytes, for progress.
// Read errors other than io.EOF name the file and wrap the cause; a stream
// cut short yields all data before the cut and then an error wrapping
// io.ErrUnexpectedEOF.
type File struct {
	name   string
	format Format
	size   int64
	pos    *counter
	r      io.Reader // decompressed bytes: a *pipe, or the bufio.Reader for Raw
	pipe   *pipe
	closer io.Closer // the os.File, nil for stdin and NewReader
	once   sync.Once
	cerr   error
	rerr   error // sticky wrapped read error
	out    int64 // decompressed bytes handed out, for error messages
}

// Open opens path ("-" means standard input) and starts decompressing it.
// It reads the first bytes to detect the format, so it blocks until they
// arrive on a pipe.
func Open(path string) (*File, error) {
	if path == "-" {
		size := int64(-1)
		if fi, err := os.Stdin.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size() // stdin redirected from a file
		}
		return newFile("stdin", os.Stdin, size, nil)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError already names the file
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	cf, err := newFile(path, f, size, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return cf, nil
}

// NewReader detects the compression of r and returns the decompressed
// stream; the result is a *File with Size -1. Closing it stops the
// decompression goroutine but does not close r.
func NewReader(r io.Reader) (io.ReadCloser, error) {
	return newFile("", r, -1, nil)
}

func newFile(name string, src io.Reader, size int64, closer io.Closer) (*File, error) {
	cf := &File{name: name, size: size, pos: &counter{r: src}, closer: closer}
	br := bufio.NewReaderSize(cf.pos, 256<<10)
	head, err := br.Peek(magicLen)
	if err != nil && err != io.EOF {
		return nil, cf.wrap(fmt.Errorf("reading header: %w", err))
	}
	cf.format = Detect(head)
	if cf.format == Raw {
		cf.r = br
		return cf, nil
	}
	var again *io.SectionReader
	if name != "stdin" { // stdin may not start at offset 0 of its file
		again = rereader(src, size)
	}
	dec, err := newDecoder(cf.format, br, again)
	if err != nil {
		if cf.pos.err == nil {
			err = cf.damage(err, cf.pos.n.Load()-int64(br.Buffered()))
		}
		return nil, cf.wrap(err)
	}
	// The offset is taken in the producer goroutine, the only reader of br.
	cf.pipe = startPipe(dec, func() int64 { return cf.pos.n.Load() - int64(br.Buffered()) })
	cf.r = cf.pipe
	return cf, nil
}

// rereader returns src as an io.SectionReader over its whole size when it
// can be read again from the start (a regular file, a bytes.Reader), else
// nil.
func rereader(src io.Reader, size int64) *io.SectionReader {
	ra, ok := src.(io.ReaderAt)
	if !ok {
		return nil
	}
	if size < 0 {
		sz, ok := src.(interface{ Size() int64 })
		if !ok {
			return nil
		}
		size = sz.Size()
	}
	return io.NewSectionReader(ra, 0, size)
}

// newDecoder returns the decompressor for f reading from r. again, when not
// nil, reads the same compressed bytes from the start (see gzipTail).
func newDecoder(f Format, r io.Reader, again *io.SectionReader) (io.ReadCloser, error) {
	switch f {
	case Gzip:
		// One member at a time: gzipTail starts each next member itself,
		// so that bytes after a member that are not a sound member are
		// reported (gunzip reads concatenated members the same way).
		br, ok := r.(*bufio.Reader)
		if !ok {
			br = bufio.NewReader(r)
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip header: %w", eofIsUnexpected(err))
		}
		zr.Multistream(false)
		g := &gzipTail{zr: zr, br: br}
		if again != nil {
			g.src, g.size = again, again.Size()
		}
		return g, nil
	case Bzip2:
		return newBzip2Reader(r), nil
	case XZ:
		xr, err := xz.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("xz header: %w", eofIsUnexpected(err))
		}
		return io.NopCloser(xr), nil
	case Zstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("unknown format %d", f)
}

// eofIsUnexpected turns a bare io.EOF inside a compressed stream into
// io.ErrUnexpectedEOF: a stream that has begun must end with its trailer.
func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Name is the path given to Open ("stdin" for "-"), empty for NewReader.
func (f *File) Name() string { return f.name }

// Format is the detected compression.
func (f *File) Format() Format { return f.format }

// Size is the compressed size in bytes, or -1 when unknown (pipes, stdin
// from a terminal or pipe, NewReader).
func (f *File) Size() int64 { return f.size }

// Pos is the number of compressed bytes read from the input so far. It is
// safe to call from another goroutine (for progress reports); it runs ahead of
// the decompressed data handed out by up to a few buffers.
func (f *File) Pos() int64 { return f.pos.n.Load() }

// Read reads decompressed bytes. After the last byte it returns io.EOF; a
// damaged or truncated stream returns an error naming the file and format.
func (f *File) Read(p []byte) (int, error) {
	if f.rerr != nil {
		return 0, f.rerr
	}
	n, err := f.r.Read(p)
	f.out += int64(n)
	if err != nil && err != io.EOF {
		if f.format != Raw && f.pos.err == nil {
			// The source read fine, so the decoder found the stream damaged.
			off := int64(-1)
			if f.pipe != nil {
				off = f.pipe.errOff
			}
			f.rerr = f.damage(err, off)
		} else {
			f.rerr = f.wrap(fmt.Errorf("after %d bytes of output: %w", f.out, err))
		}
		err = f.rerr
	}
	return n, err
}

// damage classifies a decoder error: a cut (io.ErrUnexpectedEOF) or
// corruption. off is how far the decoder had read, unless the decoder
// names the damaged spot itself (offsetError).
func (f *File) damage(err error, off int64) *Error {
	var oe *offsetError
	if errors.As(err, &oe) {
		off = oe.off
	}
	kind := Corrupt
	if errors.Is(err, io.ErrUnexpectedEOF) {
		kind = Truncated
	}
	name := f.name
	if name == "" {
		name = "input"
	}
	return &Error{Name: name, Format: f.format, Damage: kind, Offset: off, Size: f.size, Out: f.out, Err: err}
}

// wrap names the file and format in err.
func (f *File) wrap(err error) error {
	name := f.name
	if name == "" {
		name = "input"
	}
	if f.format == Raw {
		return fmt.Errorf("%s: %w", name, err)
	}
	return fmt.Errorf("%s: %s: %w", name, f.format, err)
}

// Close stops decompression and closes the file (never stdin). It is safe
// to call more than once and before the stream is fully read.
func (f *File) Close() error {
	f.once.Do(func() {
		if f.pipe != nil {
			f.pipe.stop()
		}
		if f.closer != nil {
			f.cerr = f.closer.Close()
		}
		if f.pipe != nil && f.closer != nil {
			// The file is closed, so a decoder blocked reading it returns:
			// wait for it so no goroutine outlives Close.
			f.pipe.wait()
		}
	})
	return f.cerr
}

// counter counts bytes read through it, atomically for Pos, and remembers
// a read error of the source (other than io.EOF), which is an I/O failure,
// not damage in the stream.
type counter struct {
	r   io.Reader
	n   atomic.Int64
	err error // written by the reading goroutine before it hands over the error
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// Pipe tuning: 4 buffers of 256 KiB let the decompressor run about 1 MiB
// ahead of the consumer, enough to smooth bzip2's 900 kB block bursts
// without holding much memory per open file.
const (
	pipeBuffers = 4
	pipeBufSize = 256 << 10
)

// pipe moves decompressed bytes from a producer goroutine to Read in large
// buffers, so that decompression and decoding overlap on separate cores.
type pipe struct {
	full chan []byte
	free chan []byte
	done chan struct{} // closed by stop
	exit chan struct{} // closed when the producer returns
	err  error         // final producer error; read after full is closed
	// errOff is the compressed offset at which the decoder failed; read,
	// like err, after full is closed.
	errOff   int64
	consumed func() int64
	cur      []byte // unread part of the current buffer
	buf      []byte // the current buffer, to recycle
	stp      sync.Once
}

func startPipe(dec io.ReadCloser, consumed func() int64) *pipe {
	p := &pipe{
		consumed: consumed,
		full:     make(chan []byte, pipeBuffers),
		free:     make(chan []byte, pipeBuffers),
		done:     make(chan struct{}),
		exit:     make(chan struct{}),
	}
	for range pipeBuffers {
		p.free <- make([]byte, pipeBufSize)
	}
	go p.produce(dec)
	return p
}

func (p *pipe) produce(dec io.ReadCloser) {
	defer close(p.exit)
	defer dec.Close()
	defer close(p.full)
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.done:
			p.err = errors.New("read after Close")
			return
		}
		n, err := fill(dec, buf)
		if n > 0 {
			select {
			case p.full <- buf[:n]:
			case <-p.done:
				return
			}
		}
		if err != nil {
			p.err = err
			p.errOff = p.consumed()
			return
		}
	}
}

// fill reads into buf until it is full or dec fails. Unlike io.ReadFull it
// passes the decoder's own error through unchanged, so a clean io.EOF and a
// truncation (io.ErrUnexpectedEOF) stay distinct.
func fill(dec io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := dec.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Read hands out decompressed bytes; after the last buffer it returns the
// producer's error (io.EOF on a clean end).
func (p *pipe) Read(b []byte) (int, error) {
	if len(p.cur) == 0 {
		if p.buf != nil {
			p.free <- p.buf[:cap(p.buf)]
			p.buf = nil
		}
		buf, ok := <-p.full
		if !ok {
			return 0, p.err
		}
		p.buf, p.cur = buf, buf
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

func (p *pipe) stop() { p.stp.Do(func() { close(p.done) }) }
func (p *pipe) wait() { <-p.exit }
