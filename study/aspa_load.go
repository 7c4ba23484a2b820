package study

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rovimpact/rovimpact/rov"
)

// LoadASPASet reads the VRP files of o once, keeping their ASPAs (expired
// ones counted, dropped with o.DropExpired, see ExpireASPAs), for aspa
// --path: it reads no routes, so the VRP guards do not apply. Files that
// hold no ASPA at all are an error: there would be nothing to verify.
func LoadASPASet(o VRPOptions, now time.Time, warn io.Writer) (*rov.ASPASet, error) {
	var files []ASPAFile
	o.ASPAs = &files
	if _, _, err := LoadVRPs(o, now, warn); err != nil {
		return nil, err
	}
	aspas, _ := ExpireASPAs(files, o.DropExpired, now, warn)
	if len(aspas) == 0 {
		return nil, fmt.Errorf("ASPAs: %s hold no ASPA (rpki-client or Routinator JSON \"aspas\"): nothing to verify", strings.Join(o.Files, ", "))
	}
	return rov.NewASPASet(aspas), nil
}
