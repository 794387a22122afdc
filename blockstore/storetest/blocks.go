package storetest

import (
	"fmt"
	"testing"

	merkledagpb "github.com/ipfs/boxo/ipld/merkledag/pb"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
	"google.golang.org/protobuf/proto"
)

// RawBlock returns a raw-codec CIDv1 block of data.
func RawBlock(t testing.TB, data []byte) blocks.Block {
	t.Helper()
	c, err := cid.V1Builder{Codec: cid.Raw, MhType: multihash.SHA2_256}.Sum(data)
	if err != nil {
		t.Fatalf("hash raw block: %v", err)
	}
	b, err := blocks.NewBlockWithCid(data, c)
	if err != nil {
		t.Fatalf("raw block: %v", err)
	}
	return b
}

// DagPBBytes encodes a dag-pb node with data and links to the given CIDs.
func DagPBBytes(t testing.TB, data []byte, links ...cid.Cid) []byte {
	t.Helper()
	nd := &merkledagpb.PBNode{Data: data}
	for i, l := range links {
		name := fmt.Sprintf("l%d", i)
		nd.Links = append(nd.Links, &merkledagpb.PBLink{Hash: l.Bytes(), Name: &name})
	}
	raw, err := proto.Marshal(nd)
	if err != nil {
		t.Fatalf("encode dag-pb: %v", err)
	}
	return raw
}

// DagPBBlock returns a dag-pb block built by DagPBBytes, under a CIDv1
// (version 1) or CIDv0 (version 0) with sha2-256.
func DagPBBlock(t testing.TB, version int, data []byte, links ...cid.Cid) blocks.Block {
	t.Helper()
	raw := DagPBBytes(t, data, links...)
	var c cid.Cid
	var err error
	if version == 0 {
		c, err = cid.V0Builder{}.Sum(raw)
	} else {
		c, err = cid.V1Builder{Codec: cid.DagProtobuf, MhType: multihash.SHA2_256}.Sum(raw)
	}
	if err != nil {
		t.Fatalf("hash dag-pb block: %v", err)
	}
	b, err := blocks.NewBlockWithCid(raw, c)
	if err != nil {
		t.Fatalf("dag-pb block: %v", err)
	}
	return b
}
