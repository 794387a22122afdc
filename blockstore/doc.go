// Package blockstore is kith's content-addressed storage: blocks keyed by CID
// in Badger (with an in-memory twin for tests; the bytes of large blocks in
// pack files beside Badger, see packs.go), recursive pins (one record per
// CID and owner: the user, each group keeping a copy; see Owner), garbage
// collection that gives disk space back, and re-verification of stored
// blocks.
//
// Sub-packages: storetest holds the conformance suite every Blockstore and
// PinStore must pass; dag turns files and folders into UnixFS DAGs and back,
// and moves DAGs in and out of CAR files.
package blockstore
