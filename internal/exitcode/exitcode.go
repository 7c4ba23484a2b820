// Package exitcode holds rovimpact's documented process exit codes and the
// one mapping from an error to its code, so that no command calls os.Exit
// and no package above it decides a code by string matching of its own.
//
// An error carries its code by implementing Coder (study's UsageError,
// PartialError and ThresholdError, reports' FormatError, watch's
// UsageError do) or by being made with Usagef, Thresholdf, Partialf or
// With here. Of finds the code; Worst picks the error whose code wins.
package exitcode

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Code is a process exit code of rovimpact (documented in Help and the
// README).
type Code int

// The exit codes.
const (
	OK        Code = 0
	Error     Code = 1 // input or runtime error
	Usage     Code = 2 // bad flags or arguments
	Threshold Code = 3 // a --fail-on-* threshold was crossed
	Partial   Code = 4 // an input ended early or was corrupt; every report was still written
)

// Help is the exit code paragraph every command's help ends with.
const Help = `Exit codes:
  0  success
  1  input or runtime error (unreadable file, malformed VRPs, ...)
  2  usage error (unknown flag, bad argument)
  3  a --fail-on-* threshold was crossed
  4  partial input: a route file ended early or was corrupt; every report
     was still written, covering what was read, with the loss stated in it
     (--allow-partial: 0). When 3 and 4 both apply, 4 wins.`

// Coder is an error that knows its exit code.
type Coder interface {
	error
	ExitCode() Code
}

// codeError gives an error a code.
type codeError struct {
	code Code
	err  error
}

func (e *codeError) Error() string  { return e.err.Error() }
func (e *codeError) Unwrap() error  { return e.err }
func (e *codeError) ExitCode() Code { return e.code }

// With gives err the code c (err's own message; err stays reachable
// through errors.Unwrap).
func With(c Code, err error) error { return &codeError{code: c, err: err} }

// Usagef is an error of the user's invocation (exit 2).
func Usagef(format string, args ...any) error { return With(Usage, fmt.Errorf(format, args...)) }

// Thresholdf is a crossed --fail-on-* threshold (exit 3).
func Thresholdf(format string, args ...any) error {
	return With(Threshold, fmt.Errorf(format, args...))
}

// Partialf is input that ended early or was corrupt (exit 4).
func Partialf(format string, args ...any) error { return With(Partial, fmt.Errorf(format, args...)) }

// Of maps err to its exit code: nil is OK; the first Coder in err's chain
// decides; cobra's untyped errors for unknown commands and flags and wrong
// argument counts are Usage; anything else is Error.
func Of(err error) Code {
	if err == nil {
		return OK
	}
	var c Coder
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	if isCobraUsage(err) {
		return Usage
	}
	return Error
}

// cobraUsage are the beginnings of the errors cobra and pflag return for
// unknown commands and flags and wrong argument counts, which carry no
// type of their own.
var cobraUsage = []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument"}

func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range cobraUsage {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// Worst returns the error whose exit code wins (partial input, 4, over a
// crossed threshold, 3) and writes the others on stderr, prefixed
// "rovimpact: ", so that none goes unsaid. Nil errors are skipped.
func Worst(stderr io.Writer, errs ...error) error {
	var worst error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if worst == nil {
			worst = err
			continue
		}
		if Of(err) > Of(worst) {
			worst, err = err, worst
		}
		fmt.Fprintln(stderr, "rovimpact:", err)
	}
	return worst
}
