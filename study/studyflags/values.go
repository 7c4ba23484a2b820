package studyflags

import (
	"fmt"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/rovimpact/rovimpact/rov"
)

// ASN is a pflag.Value for an AS number flag (--local-as, lookup
// --origin, ...): it accepts what rov.ParseASN accepts (64500, AS64500,
// as64500), so every AS flag takes the same spellings. A bad value is a
// usage error (exit 2) through the root command's flag error handler.
type ASN uint32

func (v *ASN) Set(s string) error {
	n, err := rov.ParseASN(s)
	if err != nil {
		return err
	}
	*v = ASN(n)
	return nil
}

func (v *ASN) String() string { return strconv.FormatUint(uint64(*v), 10) }

// Type names the value in --help: "AS" reads better than "uint32".
func (v *ASN) Type() string { return "AS" }

// Count is a pflag.Value for a row limit such as --top: a
// non-negative integer, 0 meaning no limit. A negative value used to be
// accepted and silently meant "all"; it is now a usage error (exit 2).
type Count int

// CountVar defines a Count flag with a default.
func CountVar(f *pflag.FlagSet, p *int, name string, value int, usage string) {
	*p = value
	f.Var((*Count)(p), name, usage)
}

func (v *Count) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	if n < 0 {
		return fmt.Errorf("%d is negative: want a row count, 0 for all", n)
	}
	*v = Count(n)
	return nil
}

func (v *Count) String() string { return strconv.Itoa(int(*v)) }
func (v *Count) Type() string   { return "int" }
