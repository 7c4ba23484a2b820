package study

import (
	"fmt"

	"github.com/rovimpact/rovimpact/internal/exitcode"
)

// UsageError is an invocation that cannot be studied as given: no VRP
// file, a --peer value that is not a peer or matches none, a bad policy.
// Commands map it to their usage exit code.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// ExitCode is exitcode.Usage.
func (e *UsageError) ExitCode() exitcode.Code { return exitcode.Usage }

// Usagef returns a *UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// PartialError is input that ended early or was corrupt: every report was
// still written, covering what was read. Commands map it to their
// partial-input exit code.
type PartialError struct{ Err error }

func (e *PartialError) Error() string { return e.Err.Error() }
func (e *PartialError) Unwrap() error { return e.Err }

// ExitCode is exitcode.Partial.
func (e *PartialError) ExitCode() exitcode.Code { return exitcode.Partial }

// Partialf returns a *PartialError.
func Partialf(format string, args ...any) error {
	return &PartialError{Err: fmt.Errorf(format, args...)}
}

// ThresholdError is a crossed operator threshold (--fail-on-*): the study
// is sound, the finding is what the operator asked to be stopped on.
type ThresholdError struct{ Err error }

func (e *ThresholdError) Error() string { return e.Err.Error() }
func (e *ThresholdError) Unwrap() error { return e.Err }

// ExitCode is exitcode.Threshold.
func (e *ThresholdError) ExitCode() exitcode.Code { return exitcode.Threshold }

// Thresholdf returns a *ThresholdError.
func Thresholdf(format string, args ...any) error {
	return &ThresholdError{Err: fmt.Errorf(format, args...)}
}
