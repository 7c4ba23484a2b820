package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study"
	"github.com/rovimpact/rovimpact/study/studyflags"
)

func init() { register(newVRPsCommand) }

func newVRPsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vrps",
		Short: "Work with VRP sets (validator exports)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitcode.Usagef("vrps: missing subcommand (try: rovimpact vrps diff --help)")
		},
	}
	cmd.AddCommand(newVRPsDiffCommand())
	return cmd
}

type vrpsDiffOptions struct {
	in     studyflags.Study // --vrps, --peer, --as-set, ...
	format string
	top    int
	now    func() time.Time
}

func newVRPsDiffCommand() *cobra.Command {
	opts := vrpsDiffOptions{now: time.Now}
	cmd := &cobra.Command{
		Use:   "diff A B [ROUTES...]",
		Short: "Compare two VRP sets and, given routes, list the routes whose ROV verdict would differ",
		Long: `vrps diff compares two VRP sets A (before) and B (after): two caches' exports
of the same moment, or two snapshots of one cache. VRPs are compared by what
RFC 6811 looks at (prefix, maxLength, ASN); the trust anchor is ignored and
duplicates within a set are merged. Each set gets the same --slurm and
--drop-expired treatment as in analyze.

Given ROUTES (MRT or text, as for analyze), every route is validated against
both sets and those whose state, class or drop decision differs are listed.
A route file that ended early or was corrupt is reported on stderr and makes
the exit code 4 (--allow-partial: 0).

` + exitcode.Help,
		Example: `  rovimpact vrps diff vrps-0930.json.bz2 vrps-1000.json.bz2
  rovimpact vrps diff --format json cache1.json cache2.json rib.bz2`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVRPsDiff(cmd, opts, args)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.in.VRP.SLURM, "slurm", nil, "SLURM (RFC 8416) `FILE` applied to both sets (repeatable)")
	f.BoolVar(&opts.in.VRP.DropExpired, "drop-expired", false, "drop VRPs whose expires time has passed, in both sets")
	f.StringArrayVar(&opts.in.Route.Peers, "peer", nil, "only routes from this peer, `AS|IP` (repeatable)")
	studyflags.Partial(cmd.Flags(), &opts.in.Route)
	studyflags.Analysis(cmd.Flags(), &opts.in.Analysis)
	f.StringVar(&opts.format, "format", "table", "output `format`: line, table, json, csv or ndjson")
	studyflags.CountVar(f, &opts.top, "top", 20, "rows shown per table in the table output (0: all)")
	return bigHeap(cmd)
}

func runVRPsDiff(cmd *cobra.Command, opts vrpsDiffOptions, args []string) error {
	if err := reports.VRPDiffFormats.Check(opts.format); err != nil {
		return err
	}
	cfg := opts.in.Config(args[2:], opts.now(), cmd.ErrOrStderr())
	d, partial, err := study.VRPDiff(cmd.Context(), args[0], args[1], cfg)
	if err != nil {
		return err
	}
	if err := reports.VRPDiffFormats.Print(cmd.OutOrStdout(), opts.format, reports.VRPDiffDoc{Diff: d, Top: opts.top}); err != nil {
		return err
	}
	return partial
}
