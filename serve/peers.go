package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// FetchPeers reads /api/peers of a running watch at base
// ("http://127.0.0.1:8323").
func FetchPeers(ctx context.Context, base string) (Peers, error) {
	var doc Peers
	url := strings.TrimRight(base, "/") + "/api/peers"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return doc, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return doc, fmt.Errorf("%s: %w (is rovimpact watch running with --http there?)", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return doc, fmt.Errorf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(b)))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&doc); err != nil {
		return doc, fmt.Errorf("%s: %w", url, err)
	}
	return doc, nil
}

// WriteTable writes the peers as a table that fits 120 columns.
func (p Peers) WriteTable(w io.Writer) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAlignment(tw.AlignLeft))
	t.Header("Source", "Peer", "AS", "Up", "Paths", "IPv4", "IPv6", "Valid", "Invalid", "Not found", "Dropped")
	itoa := func(n int) string { return strconv.Itoa(n) }
	for _, r := range p.Peers {
		src, up := r.Source, "no"
		if src == "" {
			src = "-"
		}
		if r.Up {
			up = "yes"
		}
		if err := t.Append(src, r.IP.String(), "AS"+strconv.FormatUint(uint64(r.AS), 10), up, strconv.FormatInt(r.Paths, 10),
			itoa(r.IPv4), itoa(r.IPv6), itoa(r.Valid), itoa(r.Invalid), itoa(r.NotFound), itoa(r.Dropped)); err != nil {
			return err
		}
	}
	return t.Render()
}
