package main

import (
	"github.com/rovimpact/rovimpact/internal/exitcode"
	"github.com/rovimpact/rovimpact/watch"
)

// The exit codes under the names the command tests use; the codes and
// their mapping live in internal/exitcode (TestOf there).
const (
	exitOK        = int(exitcode.OK)
	exitError     = int(exitcode.Error)
	exitUsage     = int(exitcode.Usage)
	exitThreshold = int(exitcode.Threshold)
	exitPartial   = int(exitcode.Partial)
)

// codeOf maps a command's error to its exit code, as main does, without
// printing it.
func codeOf(err error) int { return int(exitcode.Of(err)) }

// watchConfig is watch.Configure under the name the watch config tests use.
var watchConfig = watch.Configure
