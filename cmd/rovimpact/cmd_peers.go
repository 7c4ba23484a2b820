package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/serve"
	"github.com/rovimpact/rovimpact/watch"
)

func init() { register(newPeersCommand) }

func newPeersCommand() *cobra.Command {
	var api, format string
	cmd := &cobra.Command{
		Use:   "peers [--api URL] [--format table|json]",
		Short: "List a running watch's route sessions and what each peer carries (through its HTTP API)",
		Long: `peers asks a running "rovimpact watch" (GET /api/peers) for its route
sessions: source (bgp, bmp), peer, up or down, paths held, routes per
address family, routes by validation state, and routes ROV would drop.

` + exitcode.Help,
		Example: `  rovimpact peers
  rovimpact peers --api http://192.0.2.10:8323 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format, "table", "json"); err != nil {
				return err
			}
			doc, err := serve.FetchPeers(cmd.Context(), api)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(doc)
			}
			return doc.WriteTable(cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&api, "api", "http://"+watch.DefaultHTTP, "the watch's HTTP API `URL` (its --http address)")
	cmd.Flags().StringVar(&format, "format", "table", "output `format`: table or json")
	return cmd
}
