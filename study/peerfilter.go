package study

import (
	"strconv"
	"strings"

	"github.com/rovimpact/rovimpact/rov"
	"github.com/rovimpact/rovimpact/table"
)

// maxPeersListed bounds the peers named in a --peer error message.
const maxPeersListed = 20

// checkPeerFilter fails when a --peer value (vals, in IngestOptions.Peers
// order) matched no peer of the route files: the table would be empty and
// every answer a confident "nothing is dropped". The error lists the peers
// that were seen, so the operator can pick one.
func checkPeerFilter(vals []string, in *table.Ingester) error {
	bad := in.UnmatchedPeers()
	if len(bad) == 0 {
		return nil
	}
	names := make([]string, len(bad))
	for i, j := range bad {
		names[i] = "--peer " + vals[j]
	}
	seen, more := in.PeersSeen()
	total := len(seen) + more
	var b strings.Builder
	b.WriteString(strings.Join(names, ", "))
	if len(bad) == 1 {
		b.WriteString(" matches no peer of the route files; ")
	} else {
		b.WriteString(" match no peer of the route files; ")
	}
	switch {
	case total == 0:
		b.WriteString("they hold no routes")
		return Usagef("%s", b.String())
	case total > maxPeersListed:
		b.WriteString("peers seen (first 20 of ")
		b.WriteString(strconv.Itoa(total))
		b.WriteString("): ")
	default:
		b.WriteString("peers seen: ")
	}
	for i, k := range seen[:min(len(seen), maxPeersListed)] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(rov.FormatASN(k.AS))
		if k.IP.IsValid() {
			b.WriteString(" " + k.IP.String())
		}
	}
	return Usagef("%s", b.String())
}
