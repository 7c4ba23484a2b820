package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/rovimpact/rovimpact/alert"
	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/internal/flagfile"
	"github.com/rovimpact/rovimpact/watch"
)

// watchConfig reads the flags in args, then the --config file for the
// flags args leave unset, into the service's Options. A mistake is a usage
// error, at the file's line when the file set the flag.
func watchConfig(args []string) (watch.Options, error) {
	opts := watchOptions{Options: watch.Options{Now: time.Now, ShutdownDeadline: 5 * time.Second}}
	cmd := &cobra.Command{}
	addWatchFlags(cmd, &opts)
	if err := cmd.ParseFlags(args); err != nil {
		return watch.Options{}, exitcode.Usagef("%v", err)
	}
	var file *flagfile.File
	if opts.config != "" {
		var err error
		if file, err = flagfile.Load(cmd.Flags(), opts.config, map[string]flagfile.Section{"alerts": func(file string, key, v *yaml.Node) (err error) {
			opts.Alerts, opts.AlertsText, err = alert.Section(file, key, v)
			return err
		}}); err != nil {
			if fe := (*flagfile.Error)(nil); errors.As(err, &fe) {
				return watch.Options{}, exitcode.Usagef("%v", err)
			}
			return watch.Options{}, fmt.Errorf("--config: %w", err)
		}
	}
	o := opts.Options
	o.HTTPExplicit, o.ListenExplicit = cmd.Flags().Changed("http"), cmd.Flags().Changed("listen")
	copt, err := opts.analysis.Classify()
	if err != nil {
		return o, exitcode.Usagef("%s%v", file.Line("as-set"), errors.Unwrap(err))
	}
	o.VRPFiles, o.SLURM, o.DropExpired = opts.vrp.Files, opts.vrp.SLURM, opts.vrp.DropExpired
	o.Classify, o.Policy = copt, opts.analysis.Policy(copt, nil)
	if err := watch.Check(o); err != nil {
		return o, exitcode.Usagef("%s%v", file.Line(err.(*watch.UsageError).Flag), err)
	}
	return o, nil
}
