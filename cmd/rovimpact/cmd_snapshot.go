package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/snapshot"
	"github.com/rovimpact/rovimpact/study"
	"github.com/rovimpact/rovimpact/study/studyflags"
)

func init() { register(newSnapshotCommand) }

type snapshotOptions struct {
	in     studyflags.Study // --vrps, --peer, --as-set, ...
	output string
	now    func() time.Time
}

func newSnapshotCommand() *cobra.Command {
	opts := snapshotOptions{now: clock}
	cmd := &cobra.Command{
		Use:   "snapshot --vrps FILE --output FILE [flags] [ROUTES...]",
		Short: "Write a snapshot of an analysis for fast lookups",
		Long: `snapshot reads and validates VRPs and routes as analyze does and writes the
result (VRPs, routes, every verdict, and the report metadata) to one file
that lookup --snapshot loads in a fraction of a second, instead of reading
the VRP and route files again for every question. analyze --save writes the
same file alongside a report. Without ROUTES the snapshot holds the VRPs
only.

The snapshot records its source files (size and modification time) and the
options that decide verdicts (--as-set, --local-as, --count-default, --peer,
--drop-expired, --slurm); lookup warns when a source changed and refuses
options that contradict them. A route file that ended early or was corrupt
is recorded in the snapshot and makes the exit code 4 (--allow-partial: 0),
here and in every lookup from it.

` + exitcode.Help,
		Example: `  rovimpact snapshot --vrps vrps.json --output rib.rovsnap rib.bz2
  rovimpact lookup --snapshot rib.rovsnap 192.0.2.0/24 AS64500`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSnapshot(cmd, opts, args)
		},
	}
	f := cmd.Flags()
	studyflags.VRP(cmd.Flags(), &opts.in.VRP)
	studyflags.VRPGuards(cmd.Flags(), &opts.in.VRP)
	studyflags.Routes(cmd.Flags(), &opts.in.Route, "ROUTES in order", "keep")
	studyflags.Partial(cmd.Flags(), &opts.in.Route)
	studyflags.Analysis(cmd.Flags(), &opts.in.Analysis)
	f.StringVarP(&opts.output, "output", "o", "", "snapshot `FILE` to write (replaced atomically)")
	return bigHeap(cmd)
}

func runSnapshot(cmd *cobra.Command, opts snapshotOptions, args []string) error {
	if opts.output == "" {
		return exitcode.Usagef("--output FILE is required")
	}
	st, err := study.Run(cmd.Context(), opts.in.Config(args, opts.now(), cmd.ErrOrStderr()))
	if err != nil {
		return err
	}
	a := st.Analysis
	if err := snapshot.Save(opts.output, st, opts.in.VRP.DropExpired, opts.now()); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d VRPs, %d routes, %d peers\n", opts.output, a.Index.Len(), a.Table.Len(), len(a.Table.Peers()))
	// The snapshot records the loss (Meta.Inputs); lookups from it say so.
	return st.Partial
}
