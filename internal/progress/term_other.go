//go:build !linux

package progress

import "os"

// IsTerminal reports whether f is a character device, the portable
// approximation of a terminal (it also accepts /dev/null).
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
