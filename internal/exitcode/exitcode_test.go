package exitcode

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// typed stands for a package's own error type that knows its code (as
// study.PartialError does).
type typed struct{ c Code }

func (e typed) Error() string  { return fmt.Sprintf("typed %d", e.c) }
func (e typed) ExitCode() Code { return e.c }

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want Code
	}{
		{"nil is success", nil, OK},
		{"plain error is a runtime error", errors.New("open x: no such file"), Error},
		{"Usagef", Usagef("--out DIR is required"), Usage},
		{"Thresholdf", Thresholdf("3 routes would become unreachable"), Threshold},
		{"Partialf", Partialf("2 units failed"), Partial},
		{"With", With(Partial, errors.New("units failed")), Partial},
		{"a Coder of another package", typed{Partial}, Partial},
		{"a Coder wrapped with %w", fmt.Errorf("--history: %w", typed{Usage}), Usage},
		{"the outermost Coder decides", With(Usage, typed{Partial}), Usage},
		{"a Coder formatted with %v loses its code", fmt.Errorf("x: %v", typed{Usage}), Error},
		{"cobra: unknown command", errors.New(`unknown command "nosuch" for "rovimpact"`), Usage},
		{"cobra: unknown flag", errors.New("unknown flag: --frobnicate"), Usage},
		{"cobra: unknown shorthand", errors.New("unknown shorthand flag: 'z' in -z"), Usage},
		{"cobra: argument count", errors.New("requires at least 1 arg(s), only received 0"), Usage},
		{"cobra: at most", errors.New("requires at most 2 arg(s), only received 3"), Usage},
		{"cobra: exact", errors.New("accepts 1 arg(s), received 2"), Usage},
		{"pflag: bad value", errors.New(`invalid argument "x" for "--top" flag`), Usage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Of(tc.err); got != tc.want {
				t.Errorf("Of(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

func TestWorst(t *testing.T) {
	part, thr, plain := Partialf("partial"), Thresholdf("threshold"), errors.New("plain")
	for _, tc := range []struct {
		name   string
		errs   []error
		want   error
		stderr string
	}{
		{"none", nil, nil, ""},
		{"all nil", []error{nil, nil}, nil, ""},
		{"one", []error{nil, thr}, thr, ""},
		// The exit code paragraph: when 3 and 4 both apply, 4 wins; 3 is
		// still said.
		{"partial over threshold", []error{thr, part}, part, "rovimpact: threshold\n"},
		{"partial first", []error{part, thr}, part, "rovimpact: threshold\n"},
		{"equal codes: the first", []error{plain, errors.New("second")}, plain, "rovimpact: second\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := Worst(&stderr, tc.errs...); got != tc.want {
				t.Errorf("Worst = %v, want %v", got, tc.want)
			}
			if stderr.String() != tc.stderr {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.stderr)
			}
		})
	}
}
