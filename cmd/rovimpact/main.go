// Command rovimpact tells a network operator, before RPKI Route Origin
// Validation is switched on, which routes it would drop, why, and whether
// anything would become unreachable.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/internal/buildinfo"
	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/internal/hugepage"
	"github.com/rovimpact/rovimpact/reports"
)

// clock is the time the analysing commands take as now; tests pin it so
// that the VRP set's age in golden reports does not change by the day.
var clock = time.Now

// buildInfo is the build a report names (reports.Generation); tests pin it
// with clock, so that golden reports carry a fixed version and generation
// time (main_test.go) whatever the toolchain stamps.
var buildInfo = buildinfo.Get

// generation is the report metadata of a run at now.
func generation(now time.Time) reports.Generation { return reports.GenerationOf(buildInfo(), now) }

// subcommands is filled by each cmd_<verb>.go file's init, so that adding a
// subcommand touches only its own file.
var subcommands []func() *cobra.Command

func register(f func() *cobra.Command) { subcommands = append(subcommands, f) }

// bigHeap marks cmd as a batch command that fills a big heap (a full table,
// VRP sets, their analysis): it advises the heap for huge pages before that
// grows (internal/hugepage). Others skip the reservation (~10 ms and a GC).
func bigHeap(cmd *cobra.Command) *cobra.Command {
	cmd.PreRun = func(*cobra.Command, []string) { hugepage.Reserve(1 << 30) }
	return cmd
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "rovimpact",
		Short: "Study what RPKI Route Origin Validation would drop before you enable it",
		Long: `rovimpact validates routes (from MRT files or a live BGP feed) against RPKI
VRPs per RFC 6811, explains why each invalid route is invalid, and tells
whether its traffic would still be carried once invalid routes are dropped.

` + exitcode.Help,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildinfo.Get().String(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exitcode.With(exitcode.Usage, err)
	})
	for _, f := range subcommands {
		root.AddCommand(f())
	}
	return root
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

// exitCode prints err (if any) and maps it to the documented exit code.
func exitCode(err error) int {
	if err != nil {
		fmt.Fprintln(os.Stderr, "rovimpact:", err)
	}
	return int(exitcode.Of(err))
}
