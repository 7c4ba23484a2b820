//go:build !linux

package live

import "unsafe"

// Elsewhere the table's arrays stay on the Go heap.

func sysMap(size uintptr) (unsafe.Pointer, bool)                            { return nil, false }
func sysGrow(base unsafe.Pointer, old, size uintptr) (unsafe.Pointer, bool) { return nil, false }
func sysUnmap(base unsafe.Pointer, size uintptr)                            {}
