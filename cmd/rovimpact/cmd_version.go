package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rovimpact/rovimpact/internal/buildinfo"
	"github.com/rovimpact/rovimpact/internal/exitcode"
)

func init() { register(newVersionCommand) }

func newVersionCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print rovimpact's version, VCS revision and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			i := buildinfo.Get()
			if format == "json" {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(i)
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), i.String())
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text|json")
	return cmd
}

func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return exitcode.Usagef("--format %q: want one of %v", format, allowed)
}
