//go:build unix

package mrt

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time this process has used. The benchmarks
// report CPU per event besides wall-clock rates because the machine is
// shared: wall time there measures the neighbours as much as the code.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
