package main

import (
	"context"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/internal/progress"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study"
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

--format json (or ndjson) writes one JSON object per line and --format csv a
header and rows, both with the fields time (RFC 3339, UTC), type (rib, announce,
withdraw, peer_down), peer_ip, peer_as, prefix, path_id, as_path, origin,
next_hop, rpki_state; empty strings where a field does not apply.

A summary of each file (routes, records, what was skipped and why, the
first problems) goes to standard error. A truncated or unreadable file is
reported after the routes before the damage are printed; the remaining
files are still read and the exit code is 1.

` + exitcode.Help

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
	cmd.Flags().StringVar(&opts.format, "format", "text", "output `format`: "+strings.Join(reports.RoutesFormats(), ", "))
	cmd.Flags().BoolVarP(&opts.quiet, "quiet", "q", false, "no progress line on a terminal")
	return cmd
}

// runRoutes streams each file to the output and its summary to stderr.
func runRoutes(ctx context.Context, cmd *cobra.Command, opts *routesOptions, args []string) error {
	stderr := cmd.ErrOrStderr()
	errf, _ := stderr.(*os.File)
	showProgress := !opts.quiet && errf != nil && progress.IsTerminal(errf)
	return study.DumpRoutes(ctx, cmd.OutOrStdout(), opts.format, stderr, showProgress, args)
}
