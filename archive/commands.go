package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rovimpact/rovimpact/internal/atomicfile"
	"github.com/rovimpact/rovimpact/internal/exitcode"
)

// The three steps of rovimpact archive as the command runs them: the
// checks of their flags, where their output goes, the one-line summary on
// stderr, and which outcome is which exit code. The command only parses
// flags and calls these.

// PlanCommand plans paths (PlanPaths) and writes the manifest to stdout,
// or atomically to output when set, with a summary line on stderr. A plan
// with no unit to study still writes the manifest (the skipped lines and
// their reasons), then fails: it is not a success a cron job should pass
// on to archive run.
func PlanCommand(ctx context.Context, paths []string, opt PlanOptions, output string, stdout, stderr io.Writer) error {
	if opt.Workers < 1 {
		return exitcode.Usagef("--jobs %d: want at least 1", opt.Workers)
	}
	units, n, skipped, err := PlanPaths(ctx, paths, opt)
	if err != nil {
		return err
	}
	write := func(w io.Writer) error { return WriteManifest(w, units) }
	if output == "" {
		err = write(stdout)
	} else {
		err = atomicfile.Write(output, write)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "rovimpact: archive plan: %d units, %d skipped lines (see \"skip\")\n", n, skipped)
	if n == 0 {
		return fmt.Errorf("archive plan: no unit to study in %s (%d skipped lines)", strings.Join(paths, ", "), skipped)
	}
	return nil
}

// RunCommandOptions are archive run's flags: RunOptions, and the shard as
// --shard i/N gave it ("": from the environment, see ShardFromEnv, with
// Shards as --shards N).
type RunCommandOptions struct {
	RunOptions
	ShardFlag string
	Shards    int
	Getenv    func(string) string
}

// RunCommand studies the manifest's units of one shard (Run), with the
// summary line on stderr (opt.Log). Failed units are exit 4 (the others
// are written); a manifest with no runnable unit at all, in any shard, is
// an error before any work (a shard with nothing to do is normal).
func RunCommand(ctx context.Context, manifest string, opt RunCommandOptions) error {
	if opt.Out == "" {
		return exitcode.Usagef("--out DIR is required")
	}
	if opt.Workers < 1 {
		return exitcode.Usagef("--jobs %d: want at least 1", opt.Workers)
	}
	shard, from := All, "local"
	var err error
	if opt.ShardFlag != "" {
		shard, from = Shard{}, "--shard"
		if shard, err = ParseShard(opt.ShardFlag); err != nil {
			return exitcode.Usagef("--shard: %v", err)
		}
	} else if shard, from, err = ShardFromEnv(opt.Getenv, opt.Shards); err != nil {
		return exitcode.Usagef("%v", err)
	}
	units, err := ReadManifestFile(manifest)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(units, Unit.Runnable) {
		return fmt.Errorf("archive run: %s holds no unit to study (%d lines, all skipped or empty)", manifest, len(units))
	}
	opt.Shard = shard
	st, err := Run(ctx, units, opt.RunOptions)
	fmt.Fprintf(opt.Log, "rovimpact: archive run: shard %s (%s): %d units: %d studied, %d already complete, %d failed; %d VRP files loaded\n",
		shard, from, st.Units, st.Studied, st.AlreadyDone, st.Failed, st.VRPLoads)
	if errors.Is(err, ErrUnitsFailed) {
		return exitcode.Partialf("%v", err)
	}
	return err
}

// MergeCommand merges the units under dir (Merge), listing missing and
// failed units on stderr; any is exit 4, the merged tables written either
// way.
func MergeCommand(dir string, stderr io.Writer) error {
	res, err := Merge(dir)
	if err != nil {
		return err
	}
	if res.Report(stderr, dir) > 0 {
		return exitcode.Partialf("%d units failed and %d are missing: the merged results cover %d units", res.Failed, res.Missing, res.Done+res.Partial)
	}
	return nil
}
