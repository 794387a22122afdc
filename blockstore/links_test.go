package blockstore_test

import (
	"errors"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/storetest"
)

func block(t *testing.T, codec uint64, data []byte) blocks.Block {
	t.Helper()
	c, err := cid.V1Builder{Codec: codec, MhType: multihash.SHA2_256}.Sum(data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := blocks.NewBlockWithCid(data, c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLinks(t *testing.T) {
	a := storetest.RawBlock(t, []byte("a")).Cid()
	b := storetest.DagPBBlock(t, 0, []byte("b")).Cid()

	// Canonical dag-pb puts Links (field 2) before Data (field 1), unlike
	// a plain protobuf encoder; both orders must decode.
	var canonical []byte
	for _, l := range []cid.Cid{a, b} {
		var link []byte
		link = protowire.AppendTag(link, 1, protowire.BytesType)
		link = protowire.AppendBytes(link, l.Bytes())
		canonical = protowire.AppendTag(canonical, 2, protowire.BytesType)
		canonical = protowire.AppendBytes(canonical, link)
	}
	canonical = protowire.AppendTag(canonical, 1, protowire.BytesType)
	canonical = protowire.AppendBytes(canonical, []byte{0x08, 0x01})

	tests := []struct {
		name    string
		block   blocks.Block
		want    []cid.Cid
		wantErr error
	}{
		{"raw has no links", storetest.RawBlock(t, []byte("leaf")), nil, nil},
		{"dag-pb without links", storetest.DagPBBlock(t, 1, []byte("x")), nil, nil},
		{"dag-pb links in order", storetest.DagPBBlock(t, 1, nil, a, b, a), []cid.Cid{a, b, a}, nil},
		{"canonical dag-pb", block(t, cid.DagProtobuf, canonical), []cid.Cid{a, b}, nil},
		{"dag-cbor unsupported", block(t, cid.DagCBOR, []byte{0xa0}), nil, blockstore.ErrUnsupportedCodec},
		{"corrupt dag-pb", block(t, cid.DagProtobuf, []byte{0xff, 0xff, 0xff}), nil, errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := blockstore.Links(tc.block)
			switch {
			case tc.wantErr == errAny:
				if err == nil {
					t.Fatalf("Links = %v, want an error", got)
				}
				return
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Links error = %v, want %v", err, tc.wantErr)
				}
				return
			case err != nil:
				t.Fatalf("Links: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Links = %v, want %v", got, tc.want)
			}
			for i := range got {
				if !got[i].Equals(tc.want[i]) {
					t.Fatalf("Links = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

var errAny = errors.New("any error")
