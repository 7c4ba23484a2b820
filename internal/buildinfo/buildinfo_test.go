package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in   Info
		want string
	}{
		{Info{Version: "v1.2.0", GoVersion: "go1.26.8"}, "rovimpact v1.2.0 go1.26.8"},
		{Info{Version: "(devel)", Revision: "0ecd3957ab12cdef", GoVersion: "go1.26.8"}, "rovimpact (devel) 0ecd3957ab12 go1.26.8"},
		{Info{Version: "(devel)", Revision: "0ecd395", Modified: true, GoVersion: "go1.26.8"}, "rovimpact (devel) 0ecd395+dirty go1.26.8"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestGet(t *testing.T) {
	i := Get()
	if i.Version == "" || i.GoVersion != runtime.Version() {
		t.Errorf("Get() = %+v: want a version and GoVersion %s", i, runtime.Version())
	}
	if !strings.HasPrefix(i.String(), "rovimpact ") {
		t.Errorf("String() = %q", i.String())
	}
}
