// Command rovimpact tells a network operator, before RPKI Route Origin
// Validation is switched on, which routes it would drop, why, and whether
// anything would become unreachable.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/internal/buildinfo"
	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study"
)

// Exit codes, documented in the root command's help and the README.
const (
	exitOK        = 0
	exitError     = 1 // input or runtime error
	exitUsage     = 2 // bad flags or arguments
	exitThreshold = 3 // a --fail-on-* threshold was crossed
	exitPartial   = 4 // an input ended early or was corrupt; every report was still written
)

const exitCodesHelp = `Exit codes:
  0  success
  1  input or runtime error (unreadable file, malformed VRPs, ...)
  2  usage error (unknown flag, bad argument)
  3  a --fail-on-* threshold was crossed
  4  partial input: a route file ended early or was corrupt; every report
     was still written, covering what was read, with the loss stated in it
     (--allow-partial: 0). When 3 and 4 both apply, 4 wins.`

// exitCodeError carries the process exit code up to main, so that
// subcommands never call os.Exit themselves.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

// usageError marks an error as the user's invocation being wrong (exit 2).
func usageError(format string, args ...any) error {
	return &exitCodeError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// thresholdError marks a crossed --fail-on-* threshold (exit 3).
func thresholdError(format string, args ...any) error {
	return &exitCodeError{code: exitThreshold, err: fmt.Errorf(format, args...)}
}

// partialError marks input that ended early or was corrupt (exit 4).
func partialError(format string, args ...any) error {
	return &exitCodeError{code: exitPartial, err: fmt.Errorf(format, args...)}
}

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

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "rovimpact",
		Short: "Study what RPKI Route Origin Validation would drop before you enable it",
		Long: `rovimpact validates routes (from MRT files or a live BGP feed) against RPKI
VRPs per RFC 6811, explains why each invalid route is invalid, and tells
whether its traffic would still be carried once invalid routes are dropped.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildinfo.Get().String(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitCodeError{code: exitUsage, err: err}
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
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "rovimpact:", err)
	return codeOf(err)
}

// codeOf maps a command's error to its documented exit code.
func codeOf(err error) int {
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	var (
		ue *study.UsageError
		te *study.ThresholdError
		pe *study.PartialError
	)
	switch {
	case errors.As(err, &pe):
		return exitPartial
	case errors.As(err, &te):
		return exitThreshold
	case errors.As(err, &ue):
		return exitUsage
	}
	var fe *reports.FormatError
	if isCobraUsageError(err) || errors.As(err, &fe) {
		return exitUsage
	}
	return exitError
}

// worstExit returns the error whose exit code wins (partial input, 4,
// over a crossed threshold, 3) and writes the others on stderr so that
// none goes unsaid.
func worstExit(stderr io.Writer, errs ...error) error {
	var worst error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if worst == nil {
			worst = err
			continue
		}
		if codeOf(err) > codeOf(worst) {
			worst, err = err, worst
		}
		fmt.Fprintln(stderr, "rovimpact:", err)
	}
	return worst
}
