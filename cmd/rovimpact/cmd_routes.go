package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/internal/compressed"
	"github.com/rovimpact/rovimpact/internal/progress"
	"github.com/rovimpact/rovimpact/mrt"
	"github.com/rovimpact/rovimpact/route"
	"github.com/rovimpact/rovimpact/rov"
)

func init() { register(newRoutesCommand) }

type routesOptions struct {
	format string
	quiet  bool
}

const routesLong = `Print every route event in MRT files (TABLE_DUMP, TABLE_DUMP_V2 with
ADD-PATH, BGP4MP updates; gzip, bzip2, xz, zstd or uncompressed, detected
from content; "-" reads standard input), one per line, to check what
rovimpact reads against bgpdump -m.

Text layout (--format text), close to bgpdump -m with the origin and path id
added; always 11 '|'-separated fields, empty where they do not apply:

  TYPE|TIME|ENTRY|PEER_IP|PEER_AS|PREFIX|AS_PATH|ORIGIN|PATH_ID|NEXT_HOP|RPKI_STATE

  TYPE        TABLE_DUMP2 for RIB entries (TABLE_DUMP v1 too), BGP4MP for updates
  TIME        seconds since the epoch
  ENTRY       B RIB entry, A announce, W withdraw, STATE peer session went down
  AS_PATH     ASNs separated by spaces; AS_SET as {a,b}, AS_CONFED_SEQUENCE as
              (a b), AS_CONFED_SET as [a,b]
  ORIGIN      origin AS per RFC 6811 §2: an ASN, NONE (path ends in an AS_SET)
              or LOCAL (empty path or confederation segment last)
  PATH_ID     RFC 7911/8050 path identifier, 0 without ADD-PATH
  RPKI_STATE  RFC 8097 community a router attached: valid, not_found, invalid

--format json writes one JSON object per line and --format csv a header and
rows, both with the fields time (RFC 3339, UTC), type (rib, announce,
withdraw, peer_down), peer_ip, peer_as, prefix, path_id, as_path, origin,
next_hop, rpki_state; empty strings where a field does not apply.

A summary of each file (routes, records, what was skipped and why, the
first problems) goes to standard error. A truncated or unreadable file is
reported after the routes before the damage are printed; the remaining
files are still read and the exit code is 1.

` + exitCodesHelp

func newRoutesCommand() *cobra.Command {
	opts := &routesOptions{}
	cmd := &cobra.Command{
		Use:   "routes FILE...",
		Short: "Print the routes read from MRT files, like bgpdump -m",
		Long:  routesLong,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRoutes(cmd.Context(), cmd, opts, args)
		},
	}
	cmd.Flags().StringVar(&opts.format, "format", "text", "output format: text, json or csv")
	cmd.Flags().BoolVarP(&opts.quiet, "quiet", "q", false, "no progress line on a terminal")
	return cmd
}

// runRoutes streams each file to the output and its summary to stderr.
func runRoutes(ctx context.Context, cmd *cobra.Command, opts *routesOptions, args []string) error {
	out := bufio.NewWriterSize(cmd.OutOrStdout(), 256<<10)
	rw, err := newRoutesWriter(opts.format, out)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	errf, _ := stderr.(*os.File)
	showProgress := !opts.quiet && errf != nil && progress.IsTerminal(errf)
	var errs []error
	for _, path := range args {
		st, err := dumpRoutes(ctx, path, rw, stderr, showProgress)
		writeRoutesSummary(stderr, path, st, err)
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil || errors.Is(err, errRoutesOutput) {
				break
			}
		}
	}
	if err := out.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("writing output: %w", err))
	}
	return errors.Join(errs...)
}

// errRoutesOutput marks a failed write to the output (a closed pipe): no
// point reading further files.
var errRoutesOutput = errors.New("writing output")

// dumpRoutes writes every event of one file and returns the reader's
// statistics; the error names the file.
func dumpRoutes(ctx context.Context, path string, rw *routesWriter, stderr io.Writer, showProgress bool) (route.Stats, error) {
	f, err := compressed.Open(path)
	if err != nil {
		return route.Stats{}, err
	}
	defer f.Close()
	var routes atomic.Int64
	stop := progress.Start(stderr, showProgress, filepath.Base(path), "routes", func() progress.Sample {
		return progress.Sample{Done: f.Pos(), Total: f.Size(), Items: routes.Load()}
	})
	defer stop()
	r := mrt.NewReader(f, mrt.Options{Name: path})
	var n int64
	for r.Next() {
		if err := rw.write(r.Route()); err != nil {
			return r.Stats(), fmt.Errorf("%w: %w", errRoutesOutput, err)
		}
		if n++; n&0xfff == 0 {
			routes.Store(n)
			if err := ctx.Err(); err != nil {
				return r.Stats(), err
			}
		}
	}
	return r.Stats(), r.Err()
}

// writeRoutesSummary prints one file's counts, skips and first problems:
// nothing the reader dropped goes unmentioned.
func writeRoutesSummary(w io.Writer, path string, st route.Stats, err error) {
	if path == "-" {
		path = "stdin"
	}
	fmt.Fprintf(w, "%s: %d routes from %d records (%d bytes)", path, st.Routes, st.Records, st.Bytes)
	if len(st.Skipped) > 0 {
		keys := make([]string, 0, len(st.Skipped))
		for k := range st.Skipped {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		fmt.Fprint(w, "; skipped:")
		for _, k := range keys {
			fmt.Fprintf(w, " %s=%d", k, st.Skipped[k])
		}
	}
	fmt.Fprintln(w)
	const maxShown = 5
	for i, p := range st.Problems {
		if i == maxShown {
			fmt.Fprintf(w, "  ... %d more problems\n", len(st.Problems)-maxShown)
			break
		}
		fmt.Fprintf(w, "  record %d at offset %d: %s\n", p.Record, p.Offset, p.Err)
	}
	if err != nil {
		fmt.Fprintf(w, "  error: %v\n", err)
	}
}

// routesFormat is an output layout of the routes command.
type routesFormat uint8

const (
	routesText routesFormat = iota
	routesJSON
	routesCSV
)

// routesWriter renders Route events without allocating per route: lines
// are built in one reused buffer with strconv and netip Append functions.
type routesWriter struct {
	w      *bufio.Writer
	format routesFormat
	buf    []byte
	header bool // CSV header written
}

func newRoutesWriter(format string, w *bufio.Writer) (*routesWriter, error) {
	rw := &routesWriter{w: w, buf: make([]byte, 0, 512)}
	switch format {
	case "text":
		rw.format = routesText
	case "json":
		rw.format = routesJSON
	case "csv":
		rw.format = routesCSV
	default:
		return nil, usageError("--format %q: want text, json or csv", format)
	}
	return rw, nil
}

// routesCSVHeader names the columns of --format csv, the keys of --format
// json, in the same order.
const routesCSVHeader = "time,type,peer_ip,peer_as,prefix,path_id,as_path,origin,next_hop,rpki_state\n"

func (rw *routesWriter) write(r *route.Route) error {
	switch rw.format {
	case routesJSON:
		rw.buf = appendRouteJSON(rw.buf[:0], r)
	case routesCSV:
		if !rw.header {
			rw.header = true
			if _, err := rw.w.WriteString(routesCSVHeader); err != nil {
				return err
			}
		}
		rw.buf = appendRouteCSV(rw.buf[:0], r)
	default:
		rw.buf = appendRouteText(rw.buf[:0], r)
	}
	_, err := rw.w.Write(rw.buf)
	return err
}

// appendRouteText appends the bgpdump-like line documented in routesLong.
func appendRouteText(b []byte, r *route.Route) []byte {
	if r.FromUpdate {
		b = append(b, "BGP4MP|"...)
	} else {
		b = append(b, "TABLE_DUMP2|"...)
	}
	b = strconv.AppendInt(b, r.Time.Unix(), 10)
	switch {
	case r.Kind == route.PeerDown:
		b = append(b, "|STATE|"...)
	case r.Kind == route.Withdraw:
		b = append(b, "|W|"...)
	case r.FromUpdate:
		b = append(b, "|A|"...)
	default:
		b = append(b, "|B|"...)
	}
	b = appendAddr(b, r.Peer.IP)
	b = append(b, '|')
	b = strconv.AppendUint(b, uint64(r.Peer.AS), 10)
	b = append(b, '|')
	if r.Kind != route.PeerDown {
		b = r.Prefix.AppendTo(b)
	}
	b = append(b, '|')
	if r.Kind == route.Announce {
		b = appendASPath(b, r.Path)
		b = append(b, '|')
		b = appendOrigin(b, r.Origin)
	} else {
		b = append(b, '|')
	}
	b = append(b, '|')
	if r.Kind != route.PeerDown {
		b = strconv.AppendUint(b, uint64(r.PathID), 10)
	}
	b = append(b, '|')
	if r.Kind == route.Announce {
		b = appendAddr(b, r.NextHop)
		b = append(b, '|')
		b = append(b, rpkiStateName(r.RPKIState)...)
	} else {
		b = append(b, '|')
	}
	return append(b, '\n')
}

// appendRouteJSON appends one JSON object and a newline. Every value is
// ASCII without quotes or backslashes (numbers, addresses, prefixes, AS
// path notation, fixed words), so no escaping is needed.
func appendRouteJSON(b []byte, r *route.Route) []byte {
	b = append(b, `{"time":"`...)
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","type":"`...)
	b = append(b, routeTypeName(r)...)
	b = append(b, `","peer_ip":"`...)
	b = appendAddr(b, r.Peer.IP)
	b = append(b, `","peer_as":`...)
	b = strconv.AppendUint(b, uint64(r.Peer.AS), 10)
	b = append(b, `,"prefix":"`...)
	if r.Kind != route.PeerDown {
		b = r.Prefix.AppendTo(b)
	}
	b = append(b, `","path_id":`...)
	b = strconv.AppendUint(b, uint64(r.PathID), 10)
	b = append(b, `,"as_path":"`...)
	announce := r.Kind == route.Announce
	if announce {
		b = appendASPath(b, r.Path)
	}
	b = append(b, `","origin":"`...)
	if announce {
		b = appendOrigin(b, r.Origin)
	}
	b = append(b, `","next_hop":"`...)
	if announce {
		b = appendAddr(b, r.NextHop)
	}
	b = append(b, `","rpki_state":"`...)
	if announce {
		b = append(b, rpkiStateName(r.RPKIState)...)
	}
	return append(b, "\"}\n"...)
}

// appendRouteCSV appends one CSV row (RFC 4180): only as_path can hold a
// comma (inside an AS_SET), and it is quoted then.
func appendRouteCSV(b []byte, r *route.Route) []byte {
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, ',')
	b = append(b, routeTypeName(r)...)
	b = append(b, ',')
	b = appendAddr(b, r.Peer.IP)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(r.Peer.AS), 10)
	b = append(b, ',')
	if r.Kind != route.PeerDown {
		b = r.Prefix.AppendTo(b)
	}
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(r.PathID), 10)
	b = append(b, ',')
	announce := r.Kind == route.Announce
	if announce {
		start := len(b)
		b = appendASPath(b, r.Path)
		if slices.Contains(b[start:], ',') {
			b = append(b[:start], '"')
			b = appendASPath(b, r.Path)
			b = append(b, '"')
		}
	}
	b = append(b, ',')
	if announce {
		b = appendOrigin(b, r.Origin)
	}
	b = append(b, ',')
	if announce {
		b = appendAddr(b, r.NextHop)
	}
	b = append(b, ',')
	if announce {
		b = append(b, rpkiStateName(r.RPKIState)...)
	}
	return append(b, '\n')
}

func routeTypeName(r *route.Route) string {
	switch {
	case r.Kind == route.PeerDown:
		return "peer_down"
	case r.Kind == route.Withdraw:
		return "withdraw"
	case r.FromUpdate:
		return "announce"
	}
	return "rib"
}

// appendAddr appends a, or nothing for the zero Addr (no next hop).
func appendAddr(b []byte, a netip.Addr) []byte { return a.AppendTo(b) }

// appendASPath writes segments in bgpdump notation: AS_SEQUENCE "a b",
// AS_SET "{a,b}", AS_CONFED_SEQUENCE "(a b)", AS_CONFED_SET "[a,b]".
func appendASPath(b []byte, path []rov.Segment) []byte {
	for i, s := range path {
		if i > 0 {
			b = append(b, ' ')
		}
		open, sep, closing := byte(0), byte(' '), byte(0)
		switch s.Type {
		case rov.ASSet:
			open, sep, closing = '{', ',', '}'
		case rov.ASConfedSequence:
			open, closing = '(', ')'
		case rov.ASConfedSet:
			open, sep, closing = '[', ',', ']'
		}
		if open != 0 {
			b = append(b, open)
		}
		for j, a := range s.ASNs {
			if j > 0 {
				b = append(b, sep)
			}
			b = strconv.AppendUint(b, uint64(a), 10)
		}
		if closing != 0 {
			b = append(b, closing)
		}
	}
	return b
}

// appendOrigin writes the RFC 6811 §2 origin: the ASN, NONE or LOCAL.
func appendOrigin(b []byte, o rov.Origin) []byte {
	switch o.Kind {
	case rov.OriginNone:
		return append(b, "NONE"...)
	case rov.OriginLocal:
		return append(b, "LOCAL"...)
	}
	return strconv.AppendUint(b, uint64(o.ASN), 10)
}

// rpkiStateName names the RFC 8097 validation state community; empty when
// the route carried none.
func rpkiStateName(s route.RPKIState) string {
	switch s {
	case route.RPKIValid:
		return "valid"
	case route.RPKINotFound:
		return "not_found"
	case route.RPKIInvalid:
		return "invalid"
	}
	return ""
}
