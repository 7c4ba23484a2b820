package main

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/archive"
	"github.com/rovimpact/rovimpact/internal/atomicfile"
)

func init() { register(newArchiveCommand) }

func newArchiveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "archive",
		Short: "Study years of collector archives: plan units, run them (locally, Slurm, Kubernetes), merge",
		Long: `archive runs the impact study over route collector archives: one unit per
collector RIB, judged against the VRP set in force when it was dumped.

  plan   PATH...           write a manifest of units (JSON lines)
  run    MANIFEST --out D  study units into Hive-partitioned Parquet under D
  merge  D                 timelines, persistence and origins under D/merged

See docs/archive.md for the file-name patterns, the output layout, Slurm and
Kubernetes recipes and DuckDB/Spark queries.`,
	}
	cmd.AddCommand(newArchivePlanCommand())
	return cmd
}

type archivePlanOptions struct {
	maxVRPAge     time.Duration
	updatesWindow time.Duration
	output        string
	jobs          int
}

func newArchivePlanCommand() *cobra.Command {
	opts := archivePlanOptions{}
	cmd := &cobra.Command{
		Use:   "plan [flags] PATH...",
		Short: "Pair each collector RIB with the VRP set in force at its time; write the manifest",
		Long: `plan walks the files and directories given (MRT and VRP files mixed), reads
collector and time from RIS, RouteViews and PCH file names (else from the
first MRT record), the VRP sets' build times from their metadata (else the
file time), and writes one JSON line per unit: a RIB at time T with the
newest VRP set built at or before T and at most --max-vrp-age older. RIBs
without one, unused update files and unreadable files are listed as lines
with a "skip" reason. The manifest goes to stdout, or -o FILE.

` + exitCodesHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runArchivePlan(cmd, opts, args)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&opts.maxVRPAge, "max-vrp-age", 24*time.Hour, "oldest VRP set (relative to the RIB's time) a unit may use; 0: any")
	f.DurationVar(&opts.updatesWindow, "updates-window", 0, "attach the collector's update files from T to T+`D` to a RIB at T (0: none)")
	f.StringVarP(&opts.output, "output", "o", "", "manifest `FILE` (replaced atomically; default stdout)")
	f.IntVarP(&opts.jobs, "jobs", "j", runtime.GOMAXPROCS(0), "files inspected in parallel")
	return cmd
}

func runArchivePlan(cmd *cobra.Command, opts archivePlanOptions, args []string) error {
	if opts.jobs < 1 {
		return usageError("--jobs %d: want at least 1", opts.jobs)
	}
	units, n, skipped, err := archive.PlanPaths(cmd.Context(), args, archive.PlanOptions{
		MaxVRPAge: opts.maxVRPAge, UpdatesWindow: opts.updatesWindow, Workers: opts.jobs})
	if err != nil {
		return err
	}
	write := func(w io.Writer) error { return archive.WriteManifest(w, units) }
	if opts.output == "" {
		err = write(cmd.OutOrStdout())
	} else {
		err = atomicfile.Write(opts.output, write)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "rovimpact: archive plan: %d units, %d skipped lines (see \"skip\")\n", n, skipped)
	return nil
}
