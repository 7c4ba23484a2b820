package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/rovimpact/rovimpact/rov"
)

// asnValue is a pflag.Value for an AS number flag (--local-as, lookup
// --origin, ...): it accepts what rov.ParseASN accepts (64500, AS64500,
// as64500), so every AS flag takes the same spellings. A bad value is a
// usage error (exit 2) through the root command's flag error handler.
type asnValue uint32

func (v *asnValue) Set(s string) error {
	n, err := rov.ParseASN(s)
	if err != nil {
		return err
	}
	*v = asnValue(n)
	return nil
}

func (v *asnValue) String() string { return strconv.FormatUint(uint64(*v), 10) }

// Type names the value in --help: "AS" reads better than "uint32".
func (v *asnValue) Type() string { return "AS" }

// countValue is a pflag.Value for a row limit such as --top: a
// non-negative integer, 0 meaning no limit. A negative value used to be
// accepted and silently meant "all"; it is now a usage error (exit 2).
type countValue int

// countVar defines a countValue flag with a default.
func countVar(f *pflag.FlagSet, p *int, name string, value int, usage string) {
	*p = value
	f.Var((*countValue)(p), name, usage)
}

func (v *countValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	if n < 0 {
		return fmt.Errorf("%d is negative: want a row count, 0 for all", n)
	}
	*v = countValue(n)
	return nil
}

func (v *countValue) String() string { return strconv.Itoa(int(*v)) }
func (v *countValue) Type() string   { return "int" }
