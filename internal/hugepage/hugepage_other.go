//go:build !linux

package hugepage

func reserve(uintptr) Outcome { return Outcome{Reason: "huge pages are advised on Linux only"} }
