package main

import (
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/archive"
	"github.com/rovimpact/rovimpact/internal/exitcode"
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
	cmd.AddCommand(newArchivePlanCommand(), newArchiveRunCommand(), newArchiveMergeCommand())
	return cmd
}

// archivePlanOptions are archive plan's flags.
type archivePlanOptions struct {
	archive.PlanOptions
	output string
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

` + exitcode.Help,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return archive.PlanCommand(cmd.Context(), args, opts.PlanOptions, opts.output, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.DurationVar(&opts.MaxVRPAge, "max-vrp-age", 24*time.Hour, "oldest VRP set (relative to the RIB's time) a unit may use; 0: any")
	f.DurationVar(&opts.UpdatesWindow, "updates-window", 0, "attach the collector's update files from T to T+`D` to a RIB at T (0: none)")
	f.StringVarP(&opts.output, "output", "o", "", "manifest `FILE` (replaced atomically; default stdout)")
	f.IntVarP(&opts.Workers, "jobs", "j", runtime.GOMAXPROCS(0), "files inspected in parallel")
	return cmd
}

func newArchiveRunCommand() *cobra.Command {
	opts := archive.RunCommandOptions{Getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "run MANIFEST --out DIR [--shard i/N | --shards N] [-j N]",
		Short: "Study the manifest's units (or one shard of them) into Parquet under DIR",
		Long: `run studies each unit of the manifest as analyze --per-peer would and writes
three Parquet files per unit under DIR: summary/, invalids/ and peers/, each
partitioned collector=…/date=…/, named by the unit's hash. A unit whose
summary exists is skipped, so rerunning (or resubmitting a failed task)
redoes only what is missing. A unit whose input is missing, truncated or
corrupt writes DIR/failed/failed-<unit>.json and the run goes on
(--allow-partial keeps damaged units instead, marked partial).

--aspa also verifies every path against the unit's VRP file's ASPAs, as
rovimpact aspa does (a second replay of the unit's files): the summary's
aspa_* columns (null for units whose VRP file holds no ASPA) and a fourth
table, aspa_paths/, of the ASPA-invalid and unverified paths.

Sharding: --shard i/N runs every N-th unit from the i-th. Without it the
shard comes from SLURM_ARRAY_TASK_ID (with --shards N, or the array's
SLURM_ARRAY_TASK_MIN/COUNT) or JOB_COMPLETION_INDEX (with --shards N, for
Kubernetes Indexed Jobs); neither: every unit. Pass --shards N in batch
scripts: a task resubmitted alone (sbatch --array=2) is an array of one.

Exit 4 when some units failed (the others are written); 1 on other errors.

` + exitcode.Help,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Log = cmd.ErrOrStderr()
			return archive.RunCommand(cmd.Context(), args[0], opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Out, "out", "", "output `DIR` (created)")
	f.StringVar(&opts.ShardFlag, "shard", "", "run shard `i/N` of the units")
	f.IntVar(&opts.Shards, "shards", 0, "number of shards `N`, with SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX as the index")
	f.IntVarP(&opts.Workers, "jobs", "j", runtime.GOMAXPROCS(0), "units studied at once (each holds its table in memory)")
	f.BoolVar(&opts.AllowPartial, "allow-partial", false, "keep units whose input ended early or was corrupt (marked partial) instead of failing them")
	f.BoolVar(&opts.ASPA, "aspa", false, "also verify every path against the VRP file's ASPAs (summary aspa_* columns, aspa_paths/ table)")
	return bigHeap(cmd)
}

func newArchiveMergeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "merge DIR",
		Short: "Merge the units under DIR into timelines, persistence and origins (DIR/merged)",
		Long: `merge reads only the Parquet written by archive run under DIR (as DuckDB,
Spark or Trino would) and writes under DIR/merged, as Parquet and CSV:

  timeline     per collector and time: counts by state, class, impact, family
  persistence  per collector and invalid route: first and last seen, times
               seen, longest run of consecutive times
  origins      origin ASes ranked by unreachable route-seconds
  units.csv    every unit of the run's manifest: done, partial, failed, missing
  index.html   charts per collector, top persistence and origins, a banner
               for failed and missing units

Missing and failed units are listed on stderr and make the exit code 4; the
merged tables are written either way, covering the units that are done.

` + exitcode.Help,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return archive.MergeCommand(args[0], cmd.ErrOrStderr())
		},
	}
}
