package snapshot

import (
	"time"

	"github.com/rovimpact/rovimpact/study"
)

// Save writes the snapshot of a study to path (replaced atomically), as
// analyze --save and the snapshot command do: its analysis, its report
// metadata (st.Meta, as the caller completed it), the sources as they were
// before being read, and whether expired VRPs were dropped (which changes
// the VRP set, so lookup refuses a contradicting --drop-expired).
func Save(path string, st study.Study, dropExpired bool, created time.Time) error {
	h := Header{Created: created, Sources: st.Sources, DropExpired: dropExpired, Meta: st.Meta}
	return WriteFile(path, h, st.Analysis)
}
