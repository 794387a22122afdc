package dag

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	pb "github.com/ipfs/boxo/ipld/unixfs/pb"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

// Known CIDs for the unixfs-v1-2025 profile (cross-checked with Kubo
// test-cid-v1-wide).
func TestImportCIDVectors(t *testing.T) {
	tests := []struct {
		name string
		node files.Node
		want string
		size uint64
	}{
		{"empty file", files.NewBytesFile(nil), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", 0},
		{"hello kith", files.NewBytesFile([]byte("hello kith\n")), "bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe", 11},
		{"empty folder", files.NewMapDirectory(nil), "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := importNode(t, blockstore.NewMemStore(), tt.node)
			if got := res.Root.String(); got != tt.want {
				t.Errorf("root = %s, want %s", got, tt.want)
			}
			if res.Size != tt.size || res.Blocks != 1 {
				t.Errorf("size, blocks = %d, %d; want %d, 1", res.Size, res.Blocks, tt.size)
			}
		})
	}
}

// rootLinks decodes the dag-pb block at c and returns its links' CIDs and
// its UnixFS data.
func rootNode(t *testing.T, bs blockstore.Blockstore, c cid.Cid) (*merkledag.ProtoNode, *ft.FSNode) {
	t.Helper()
	if c.Prefix().Codec != cid.DagProtobuf {
		t.Fatalf("%s is not dag-pb", c)
	}
	b, err := bs.Get(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	pn, err := merkledag.DecodeProtobuf(b.RawData())
	if err != nil {
		t.Fatal(err)
	}
	fs, err := ft.FSNodeFromBytes(pn.Data())
	if err != nil {
		t.Fatal(err)
	}
	return pn, fs
}

func TestImportFileLayout(t *testing.T) {
	tests := []struct {
		name      string
		chunk     int64
		chunks    int // full chunks
		extra     int // trailing bytes
		rootLinks int // links of the root node
		firstSub  int // links of the root's first child (-1: raw leaf)
		blocks    int // distinct blocks expected
	}{
		{name: "3 MiB default chunks", chunk: 0, chunks: 3, rootLinks: 3, firstSub: -1, blocks: 4},
		{name: "3 MiB + 1 byte", chunk: 0, chunks: 3, extra: 1, rootLinks: 4, firstSub: -1, blocks: 5},
		{name: "1024 chunks fit one node", chunk: 64, chunks: 1024, rootLinks: 1024, firstSub: -1, blocks: 1025},
		{name: "1025 chunks need a second level", chunk: 64, chunks: 1025, rootLinks: 2, firstSub: 1024, blocks: 1025 + 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunk := tt.chunk
			var opts []ImportOption
			if chunk == 0 {
				chunk = DefaultChunkSize
			} else {
				opts = append(opts, WithChunkSize(chunk))
			}
			n := int(chunk)*tt.chunks + tt.extra
			data := detBytes(uint64(i+1), n)
			bs := blockstore.NewMemStore()
			res := importNode(t, bs, files.NewBytesFile(data), opts...)
			if res.Size != uint64(n) || res.Blocks != tt.blocks {
				t.Errorf("size, blocks = %d, %d; want %d, %d", res.Size, res.Blocks, n, tt.blocks)
			}
			pn, fs := rootNode(t, bs, res.Root)
			if got := len(pn.Links()); got != tt.rootLinks {
				t.Fatalf("root links = %d, want %d", got, tt.rootLinks)
			}
			if fs.Type() != ft.TFile || fs.FileSize() != uint64(n) {
				t.Errorf("root unixfs = %s size %d", fs.Type(), fs.FileSize())
			}
			first := pn.Links()[0].Cid
			if tt.firstSub < 0 {
				if first.Prefix().Codec != cid.Raw {
					t.Errorf("first link %s is not a raw leaf", first)
				}
			} else if sub, _ := rootNode(t, bs, first); len(sub.Links()) != tt.firstSub {
				t.Errorf("first child links = %d, want %d", len(sub.Links()), tt.firstSub)
			}
			if first.Version() != 1 || first.Prefix().MhType != 0x12 {
				t.Errorf("leaf CID %s is not CIDv1 sha2-256", first)
			}
			// Reading back gives the same bytes.
			r, size, err := Open(context.Background(), bs, res.Root)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got bytes.Buffer
			if _, err := got.ReadFrom(r); err != nil {
				t.Fatal(err)
			}
			if size != uint64(n) || !bytes.Equal(got.Bytes(), data) {
				t.Errorf("read back %d bytes (size %d), want %d", got.Len(), size, n)
			}
		})
	}
}

func TestImportBadChunkSize(t *testing.T) {
	for _, n := range []int64{0, -1, DefaultChunkSize + 1} {
		_, err := NewImporter(blockstore.NewMemStore(), WithChunkSize(n)).Add(context.Background(), files.NewBytesFile(nil), nil)
		if err == nil {
			t.Errorf("chunk size %d accepted", n)
		}
	}
}

// The folder built in memory and the same folder on disk give one CID, and
// identical content is stored once.
func TestImportFolderDiskMatchesMemory(t *testing.T) {
	tr := sampleTree()
	dir := filepath.Join(t.TempDir(), "in")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tr.writeDisk(t, dir)
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := files.NewSerialFile(dir, false, st)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	var last int64
	disk, err := NewImporter(blockstore.NewMemStore()).Add(context.Background(), sf, func(n int64) { last = n })
	if err != nil {
		t.Fatal(err)
	}
	mem := importNode(t, blockstore.NewMemStore(), tr.node())
	if disk != mem {
		t.Errorf("disk import %+v != memory import %+v", disk, mem)
	}
	if uint64(last) != mem.Size || mem.Size != tr.size() {
		t.Errorf("progress ended at %d, size %d, want %d", last, mem.Size, tr.size())
	}
}

func (tr tree) size() uint64 {
	var n uint64
	for _, v := range tr {
		switch v := v.(type) {
		case []byte:
			n += uint64(len(v))
		case tree:
			n += v.size()
		}
	}
	return n
}

func TestImportRefuses(t *testing.T) {
	tests := []struct {
		name string
		node files.Node
		want error
	}{
		{"slash in name", files.NewMapDirectory(map[string]files.Node{"a/b": files.NewBytesFile(nil)}), ErrUnsafeName},
		{"dotdot name", files.NewMapDirectory(map[string]files.Node{"..": files.NewBytesFile(nil)}), ErrUnsafeName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewImporter(blockstore.NewMemStore()).Add(context.Background(), tt.node, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestImportSurfacesStoreErrorAndSyncs(t *testing.T) {
	boom := errors.New("disk full")
	bad := &hookStore{Blockstore: blockstore.NewMemStore(), failPutMany: boom}
	_, err := NewImporter(bad).Add(context.Background(), files.NewReaderFile(detReader(7, 40<<20)), nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if bad.syncCalls.Load() != 0 {
		t.Errorf("Sync called after a failed import")
	}

	good := &hookStore{Blockstore: blockstore.NewMemStore()}
	res := importNode(t, good, files.NewReaderFile(detReader(7, 20<<20)))
	if good.syncCalls.Load() != 1 {
		t.Errorf("Sync called %d times, want 1", good.syncCalls.Load())
	}
	// 21 blocks of ~1 MiB: batched, not one PutMany per block.
	if calls := good.putManyCalls.Load(); calls < 2 || calls > 5 {
		t.Errorf("PutMany called %d times for %d blocks", calls, res.Blocks)
	}
}

func TestImportCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := NewImporter(blockstore.NewMemStore()).Add(ctx, files.NewReaderFile(detReader(3, 64<<20)), func(int64) {
		if n++; n == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// hamtTree returns n files whose names are 200 bytes, so each link counts
// 236 bytes (name + 36-byte raw CIDv1) towards the 1 MiB threshold.
func hamtTree(n int) tree {
	tr := tree{}
	for i := range n {
		tr[fmt.Sprintf("%0200d", i)] = []byte(fmt.Sprintf("file %d\n", i))
	}
	return tr
}

func TestImportHAMTThreshold(t *testing.T) {
	const perLink = 200 + 36
	under := HAMTShardingThreshold / perLink // 4443 links: 1048548 bytes
	tests := []struct {
		entries int
		want    pb.Data_DataType
	}{
		{under, ft.TDirectory},
		{under + 1, ft.THAMTShard}, // reaches 1 MiB: boxo shards at >= threshold
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.entries), func(t *testing.T) {
			bs := blockstore.NewMemStore()
			res := importNode(t, bs, hamtTree(tt.entries).node())
			_, fs := rootNode(t, bs, res.Root)
			if fs.Type() != tt.want {
				t.Fatalf("root type = %s, want %s", fs.Type(), tt.want)
			}
			if tt.want == ft.THAMTShard && fs.Fanout() != HAMTFanout {
				t.Errorf("fanout = %d, want %d", fs.Fanout(), HAMTFanout)
			}
		})
	}
}

func sampleTree() tree {
	return tree{
		"empty":       []byte{},
		"hello.txt":   []byte("hello kith\n"),
		"hello2.txt":  []byte("hello kith\n"), // same content as hello.txt
		"emptydir":    tree{},
		"binary.bin":  detBytes(11, 3<<20+12345),
		"with space ": []byte{0, 1, 2, 0xff},
		"sub": tree{
			"deeper": tree{
				"zeros":   make([]byte, 2<<20),
				"ünïcode": []byte("ok"),
				"empty2":  tree{},
			},
			"small.bin": detBytes(12, 1000),
		},
	}
}
