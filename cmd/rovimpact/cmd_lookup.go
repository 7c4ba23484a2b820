package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/classify"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/table"
)

func init() { register(newLookupCommand) }

type lookupOptions struct {
	vrp      vrpOptions
	route    routeOptions
	analysis analysisOptions
	origin   uint32
	format   string
	now      func() time.Time
}

func newLookupCommand() *cobra.Command {
	opts := lookupOptions{now: time.Now}
	cmd := &cobra.Command{
		Use:   "lookup QUERY... --vrps FILE [flags] [ROUTES...]",
		Short: "Answer for one prefix, address or AS: VRPs, routes, states, and what ROV would do",
		Long: `lookup answers ad-hoc questions with the same verdicts analyze gives.

A QUERY is a prefix (192.0.2.0/24), an address (192.0.2.10) or an AS
(AS64500). Arguments that are not queries are route files, read like
analyze's ROUTES; without route files the answers come from the VRPs alone.
With no QUERY arguments, queries are read from standard input, one a line.

  prefix   the VRPs covering it and inside it; every route for exactly that
           prefix, the less-specific routes covering it and the more-specific
           routes inside it, with state, class, deciding VRPs and, for each
           route ROV drops, the impact analyze reports. --origin AS validates
           announcing the prefix from AS ("what happens if I announce this?").
  address  the routes containing it, most specific first, and which route
           carries traffic to it today and once ROV drops invalid routes.
  AS       the routes it originates, its VRPs (unused ones, and RFC 9319
           risky ones whose maxLength authorises unannounced more-specifics),
           and one suggested VRP per announced prefix.

` + exitCodesHelp,
		Example: `  rovimpact lookup --vrps testdata/sample/vrps.json 1.1.1.0/24 testdata/sample/routes-v4.mrt
  rovimpact lookup --vrps vrps.json --origin 64500 192.0.2.0/24
  echo AS18101 | rovimpact lookup --vrps vrps.json --format json rib.mrt`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLookup(cmd, opts, args)
		},
	}
	f := cmd.Flags()
	addVRPFlags(cmd, &opts.vrp)
	f.StringArrayVar(&opts.route.updates, "updates", nil, "update `FILE` replayed after the route files (repeatable)")
	f.StringArrayVar(&opts.route.peers, "peer", nil, "use only routes from this peer, `AS|IP` (repeatable)")
	addAnalysisFlags(cmd, &opts.analysis)
	f.Uint32Var(&opts.origin, "origin", 0, "for prefix queries: also validate announcing the prefix from this `AS`")
	f.StringVar(&opts.format, "format", "table", "output `format`: table, json or csv")
	return cmd
}

func runLookup(cmd *cobra.Command, opts lookupOptions, args []string) error {
	if err := checkFormat(opts.format, "table", "json", "csv"); err != nil {
		return err
	}
	queries, files, err := splitLookupArgs(args)
	if err != nil {
		return err
	}
	copt, err := opts.analysis.classify()
	if err != nil {
		return err
	}
	if len(queries) == 0 {
		if queries, err = readQueries(cmd.InOrStdin()); err != nil {
			return err
		}
	}
	parsed := make([]reports.Query, 0, len(queries))
	for _, q := range queries {
		pq, err := reports.ParseQuery(q)
		if err != nil {
			return usageError("%v", err)
		}
		parsed = append(parsed, pq)
	}
	ix, _, err := loadVRPs(opts.vrp, opts.now(), cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	t := table.New()
	if len(files) > 0 || len(opts.route.updates) > 0 {
		if t, _, _, err = readRoutes(cmd.Context(), files, opts.route, newProgress(cmd.ErrOrStderr())); err != nil {
			return err
		}
	}
	a := classify.Analyze(t, ix, copt)
	var origin *uint32
	if cmd.Flags().Changed("origin") {
		origin = &opts.origin
	}
	answers := make([]reports.Answer, len(parsed))
	for i, q := range parsed {
		answers[i] = reports.Lookup(a, q, origin)
	}
	out := bufio.NewWriter(cmd.OutOrStdout())
	switch opts.format {
	case "json":
		err = reports.WriteLookupJSON(out, answers)
	case "csv":
		err = reports.WriteLookupCSV(out, answers)
	default:
		err = reports.WriteLookupTable(out, answers)
	}
	if err != nil {
		return err
	}
	return out.Flush()
}

// splitLookupArgs tells queries from route files: an existing file (or "-")
// is a route file, anything else must parse as a query.
func splitLookupArgs(args []string) (queries, files []string, err error) {
	for _, a := range args {
		if _, serr := os.Stat(a); serr == nil || a == "-" {
			files = append(files, a)
			continue
		}
		if _, err := reports.ParseQuery(a); err != nil {
			return nil, nil, usageError("%v (and no such route file)", err)
		}
		queries = append(queries, a)
	}
	return queries, files, nil
}

// readQueries reads one query a line, skipping blanks and # comments.
func readQueries(r io.Reader) ([]string, error) {
	var qs []string
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		qs = append(qs, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading queries from stdin: %w", err)
	}
	if len(qs) == 0 {
		return nil, usageError("no QUERY given (as arguments or on standard input)")
	}
	return qs, nil
}
