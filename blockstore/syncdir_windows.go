package blockstore

// syncDir does nothing on Windows, which cannot fsync a folder; NTFS
// journals the folder's entries itself.
func syncDir(string) error { return nil }
