package fetch

import (
	unixfspb "github.com/ipfs/boxo/ipld/unixfs/pb"
	"github.com/ipfs/go-cid"
	"google.golang.org/protobuf/proto"
)

// FetchOption changes one Fetch.
type FetchOption func(*run)

// OnlyFiles has Fetch make whole only the files want names, for a caller
// that knows what it lacks (a folder written out before, whose changed
// files alone it needs): of a UnixFS folder, every folder block is
// fetched, and the first block of each file (what a listing reads: its
// kind and size, a link's target); a file's other blocks only when want
// returns true for the file's CID. A whole small file is a single raw
// block: one that want does not name is not fetched at all. Blocks that
// are not UnixFS folders are treated as files. When Fetch returns nil,
// what was asked is stored; the rest may be missing.
func OnlyFiles(want func(cid.Cid) bool) FetchOption {
	return func(r *run) {
		r.files = want
		r.inFile = map[string]struct{}{}
	}
}

// isFolder reports whether the dag-pb node data is a UnixFS folder (a
// plain one or a HAMT shard).
func isFolder(data []byte) bool {
	var d unixfspb.Data
	if proto.Unmarshal(data, &d) != nil {
		return false
	}
	t := d.GetType()
	return t == unixfspb.Data_Directory || t == unixfspb.Data_HAMTShard
}

// within is the part of the dag-pb block c's links that OnlyFiles fetches:
// a folder's, less the raw blocks of files not wanted; a wanted file's,
// all of them (and below, its blocks are the file's); none of another
// file's. Walker goroutine only.
func (wk *walker) within(c cid.Cid, unixfs []byte, links []link) []link {
	k := c.KeyString()
	switch _, inFile := wk.r.inFile[k]; {
	case inFile || wk.r.files(c):
		for _, l := range links {
			if l.c.Type() == cid.DagProtobuf {
				wk.r.inFile[l.c.KeyString()] = struct{}{}
			}
		}
		return links
	case isFolder(unixfs):
		out := links[:0]
		for _, l := range links {
			if l.c.Type() != cid.Raw || wk.r.files(l.c) {
				out = append(out, l)
			}
		}
		return out
	default:
		return nil
	}
}
