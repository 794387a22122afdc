//go:build !linux

package blockstore

const releaseMappedEvery = 32 << 20

// releaseMapped does nothing here: it reads Linux's /proc/self/maps.
func releaseMapped(dir string) error { return nil }

// fileResident is unknown here: without it, touchedMapped never releases.
func fileResident() int64 { return -1 }
