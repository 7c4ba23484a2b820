//go:build !unix

package mrt

import "time"

// processCPU is unavailable here; the CPU-per-event metric is omitted.
func processCPU() time.Duration { return 0 }
