package study

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"

	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/progress"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/routefile"
	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// RouteOptions say how route files are read.
type RouteOptions struct {
	// Updates are replayed after the ROUTES, in order.
	Updates []string
	// Peers keep only routes from these peers (--peer: AS or IP).
	Peers []string
	// AllowPartial accepts route files that ended early or were corrupt
	// (PartialInput returns nil; the loss is reported either way).
	AllowPartial bool
}

// ParsePeers turns --peer values (an AS number, "AS64500", or an IP) into
// matches.
func ParsePeers(vals []string) ([]table.PeerMatch, error) {
	var out []table.PeerMatch
	for _, v := range vals {
		if ip, err := netip.ParseAddr(v); err == nil {
			out = append(out, table.PeerMatch{IP: ip})
			continue
		}
		n, err := rov.ParseASN(v)
		if err != nil || n == 0 {
			return nil, Usagef("--peer %q: want an AS number (64500, AS64500 or as64500) or an IP address", v)
		}
		out = append(out, table.PeerMatch{AS: n})
	}
	return out, nil
}

// Routes is a route table read from files, with what each file gave and
// lost and what the ingester skipped.
type Routes struct {
	Table   *table.Table
	Inputs  []reports.Input
	Skipped map[string]int64
}

// ReadRoutes fills a table from route files (MRT or text, any compression):
// the route half of the shared pipeline. A truncated file is reported in its
// Input row and does not stop the study: every complete record was used.
// prog may be nil (no progress line).
func ReadRoutes(ctx context.Context, files []string, opt RouteOptions, prog Progress) (Routes, error) {
	peers, err := ParsePeers(opt.Peers)
	if err != nil {
		return Routes{}, err
	}
	if prog == nil {
		prog = noProgress
	}
	t := table.New()
	// Files are replayed in the order given, RIBs and updates alike (a RIB
	// sets its peers' tables as of its time, updates apply on top; see
	// table.IngestOptions.ReplayAll). One file needs no replay of its RIB
	// entries, which is much cheaper on a full table.
	all := append(append([]string(nil), files...), opt.Updates...)
	in := table.NewIngester(t, table.IngestOptions{Peers: peers, ReplayAll: len(all) > 1})
	var inputs []reports.Input
	for _, name := range all {
		if err := ctx.Err(); err != nil {
			return Routes{}, err
		}
		input, err := readRouteFile(in, name, prog)
		if err != nil {
			return Routes{}, err
		}
		inputs = append(inputs, input)
	}
	in.Finish()
	if err := checkPeerFilter(opt.Peers, in); err != nil {
		return Routes{}, err
	}
	return Routes{Table: t, Inputs: inputs, Skipped: in.Skipped}, nil
}

func readRouteFile(in *table.Ingester, name string, prog Progress) (reports.Input, error) {
	f, err := compressed.Open(name)
	if err != nil {
		return reports.Input{}, err
	}
	defer f.Close()
	data := &countingReader{r: f}
	src, err := routefile.NewSource(data, name)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && !isSystemError(err) {
			// Cut before its first record could be decoded (a
			// compressed file cut inside its first block): nothing
			// read, which is partial input too.
			return reports.Input{Name: name, Error: err.Error(), Loss: inputLoss(route.Stats{}, err, data.n, false)}, nil
		}
		return reports.Input{}, err
	}
	stop := prog(name, f, in)
	rerr := in.Read(src)
	stop()
	st := src.Stats()
	input := reports.Input{Name: name, Records: st.Records, Routes: st.Routes, Skipped: st.Skipped}
	input.SetRecordTimes(st.First, st.Last)
	if rerr != nil && isSystemError(rerr) {
		return input, rerr // the file could not be read: not a damaged file
	}
	var rest int64
	if rerr != nil {
		// The rest of the data, to tell how much of the file was not
		// used; bounded, since a reader stopping early is no promise
		// that the data is small.
		rest, _ = io.Copy(io.Discard, io.LimitReader(f, maxDrain))
	}
	input.Loss = inputLoss(st, rerr, data.n+rest, rest == maxDrain)
	if rerr != nil {
		input.Error = rerr.Error()
	}
	return input, nil
}

// maxDrain bounds the decompressed bytes read past damage only to count
// them.
const maxDrain = 1 << 30

// countingReader counts the bytes a Source took from the decompressed
// stream.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// isSystemError tells an operating-system failure to read the file (the
// disk, permissions) from damage in the data.
func isSystemError(err error) bool {
	var pe *fs.PathError
	var errno syscall.Errno
	return errors.As(err, &pe) || errors.As(err, &errno)
}

// locatedError is what a reader's error can say about where the damage
// is; an error that does not implement it is located from its text.
type locatedError interface {
	error
	Record() int64
	Offset() int64
}

// errLocation finds "record 17 at offset 3464" (mrt.Reader) or "line 5
// (offset 100)" (the text reader) in a reader's error.
var errLocation = regexp.MustCompile(`(?:record|line) (\d+) (?:at offset|\(offset) (\d+)`)

// inputLoss is the adapter between what the readers report about damage
// and reports.Loss: the error that stopped the Source (wrapping
// io.ErrUnexpectedEOF when the data ended inside a record or the
// decompressor saw the stream cut; anything else, such as a bzip2 or gzip
// checksum mismatch, is corruption) and Stats (corrupt records skipped
// with the framing intact). total is the decompressed data available,
// read or not; atLeast says it is a lower bound. Nil for a whole file.
func inputLoss(st route.Stats, rerr error, total int64, atLeast bool) *reports.Loss {
	// Damage the reader recovered from (a corrupt record in a sound frame,
	// framing regained by resynchronising) is still lost data.
	corrupt := st.Skipped["corrupt"] + st.Skipped["resync"]
	if rerr == nil && corrupt == 0 {
		return nil
	}
	l := &reports.Loss{Kind: reports.LossCorrupt, Records: st.Records, Routes: st.Routes, CorruptRecords: corrupt}
	if rerr == nil {
		p := st.Problems[0]
		l.Record, l.Offset, l.Error = p.Record, p.Offset, p.Err
		return l
	}
	l.Error = rerr.Error()
	if errors.Is(rerr, io.ErrUnexpectedEOF) {
		l.Kind = reports.LossTruncated
	}
	var ie *route.InputError
	var le locatedError
	if errors.As(rerr, &ie) {
		// The reader classified the damage itself: a cut or a
		// contradiction (a bzip2 block CRC, a gzip checksum, a record that
		// does not decode), and where the decompressor found it.
		l.Kind = reports.LossCorrupt
		if ie.Damage == route.Truncated {
			l.Kind = reports.LossTruncated
		}
		l.Record, l.Offset = ie.Record, ie.Offset
		if ie.CompressedOffset >= 0 && ie.Unread > 0 {
			l.CompressedOffset, l.CompressedUnread = ie.CompressedOffset, ie.Unread
		}
	} else if errors.As(rerr, &le) {
		l.Record, l.Offset = le.Record(), le.Offset()
	} else if m := errLocation.FindStringSubmatch(rerr.Error()); m != nil {
		l.Record, _ = strconv.ParseInt(m[1], 10, 64)
		l.Offset, _ = strconv.ParseInt(m[2], 10, 64)
	} else {
		l.Offset = st.Bytes
	}
	// A record that was never completed is not counted as read.
	if l.Records >= l.Record && l.Record > 0 {
		l.Records = l.Record - 1
	}
	if total > l.Offset {
		l.BytesUnread = total - l.Offset
		l.UnreadShare = float64(l.BytesUnread) / float64(total)
		l.UnreadAtLeast = atLeast
	}
	return l
}

// PartialInput writes the loss of every damaged input on warn, as soon as
// it is known, and returns the *PartialError a command returns once its
// reports are written; nil when nothing was lost or allow (--allow-partial).
func PartialInput(inputs []reports.Input, allow bool, warn io.Writer) error {
	n := 0
	for _, in := range inputs {
		if l := reports.LossOf(in); l != nil {
			n++
			fmt.Fprintf(warn, "rovimpact: partial input: %s\n", l.Describe(in.Name))
		}
	}
	if n == 0 || allow {
		return nil
	}
	return Partialf("%d of %d route files ended early or were corrupt: the results cover only what was read (--allow-partial to accept that)", n, len(inputs))
}

// Progress starts a progress line for one input file and returns the
// function that ends it.
type Progress func(name string, f *compressed.File, in *table.Ingester) (stop func())

func noProgress(string, *compressed.File, *table.Ingester) func() { return func() {} }

// NewProgress reports progress on w only when w is a terminal: an operator
// watching a full table load sees it move; cron's mail stays clean.
func NewProgress(w io.Writer) Progress {
	enabled := false
	if f, ok := w.(*os.File); ok {
		enabled = progress.IsTerminal(f)
	}
	return func(name string, f *compressed.File, in *table.Ingester) func() {
		return progress.Start(w, enabled, filepath.Base(name), "routes", func() progress.Sample {
			return progress.Sample{Done: f.Pos(), Total: f.Size(), Items: in.Events()}
		})
	}
}
