// Package dag turns files and folders into UnixFS DAGs in a
// blockstore.Blockstore and back again, and moves DAGs in and out of CAR
// files.
//
// Importing follows IPIP-499's "unixfs-v1-2025" profile (Kubo's
// test-cid-v1-wide): CIDv1, sha2-256, raw leaves, 1 MiB fixed-size chunks,
// balanced files of at most 1024 links per node, and basic directories that
// become HAMT shards of fanout 1024 once their estimated size reaches 1 MiB.
// Following the profile exactly is what lets a kith CID match the CID Kubo
// and other IPFS implementations compute for the same bytes, so the same
// content is found and deduplicated across the network.
//
// Files are chunked and laid out by boxo's balanced importer, folders are
// built with boxo's UnixFS directory node and HAMT shard (see addDir for why
// not through uio.Directory), and reading uses boxo's DAG reader. This
// package's own work is feeding boxo a blockstore fast (a batching DAGService
// whose writer goroutine overlaps hashing with PutMany), reading DAGs back
// safely (names that would escape the output folder are refused, see
// ErrUnsafeName), and verifying CAR input, which is untrusted. For stores
// that fetch from peers as they are read (the gateway's), Stream reads a
// file block by block with bounded read-ahead, and StatRoot and LsLinks
// describe content from as few blocks as they can.
package dag
