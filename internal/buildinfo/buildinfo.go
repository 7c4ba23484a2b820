// Package buildinfo says which rovimpact built a report or serves metrics:
// the version, the VCS revision and the Go toolchain. A report that cannot
// be traced to the code that made it cannot be trusted or reproduced.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// version is set at link time for releases:
//
//	go build -ldflags "-X github.com/rovimpact/rovimpact/internal/buildinfo.version=v1.2.0" ./cmd/rovimpact
//
// Without it, the module version from the build info is used ("(devel)"
// for a build from a checkout).
var version string

// Info identifies a build.
type Info struct {
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"` // VCS commit, "" when built with -buildvcs=false
	Modified  bool   `json:"modified,omitempty"` // the work tree had uncommitted changes
	GoVersion string `json:"go_version"`
}

var (
	once sync.Once
	info Info
)

// Get returns the build's identity, read once from the binary's build info.
func Get() Info {
	once.Do(func() {
		info = Info{Version: version, GoVersion: runtime.Version()}
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			if info.Version == "" {
				info.Version = "unknown"
			}
			return
		}
		if info.Version == "" {
			info.Version = bi.Main.Version
		}
		if info.Version == "" {
			info.Version = "(devel)"
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	})
	return info
}

// String is the one-line form `rovimpact version` prints:
// "rovimpact (devel) 0ecd3957ab12+dirty go1.26.8".
func (i Info) String() string {
	s := "rovimpact " + i.Version
	if i.Revision != "" {
		r := i.Revision
		if len(r) > 12 {
			r = r[:12]
		}
		s += " " + r
		if i.Modified {
			s += "+dirty"
		}
	}
	return s + " " + i.GoVersion
}
