//go:build !linux

package live

import "unsafe"

// Elsewhere the table's arrays stay on the Go heap.

func sysMap(size uintptr) (unsafe.Pointer, bool)                            { return nil, false }
func sysGrow(base unsafe.Pointer, old, size uintptr) (unsafe.Pointer, bool) { return nil, false }
func sysUnmap(base unsafe.Pointer, size uintptr)                            {}
func sysReserve(size uintptr) (unsafe.Pointer, bool)                        { return nil, false }
func sysCommit(p unsafe.Pointer, n uintptr) bool                            { return false }
func sysRelease(p unsafe.Pointer, n uintptr)                                {}
