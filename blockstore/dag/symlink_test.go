package dag

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/kith-p2p/kith/blockstore"
)

// symlinkTree holds symbolic links of every kind a folder on disk has:
// relative, absolute, dangling, to a folder, and one beside the file it
// names.
func symlinkTree() tree {
	return tree{
		"a.txt":    []byte("hello\n"),
		"rel":      link("a.txt"),
		"abs":      link("/etc/hostname"),
		"dangling": link("../nowhere/at/all"),
		"sub": tree{
			"up":   link("../a.txt"),
			"self": link("."),
			"x":    []byte("x"),
		},
		"tosub": link("sub"),
	}
}

// TestSymlinkCIDsMatchKubo: a symbolic link is stored as Kubo stores it
// (`ipfs add -r` with the test-cid-v1-wide profile, Kubo 0.39), so a folder
// holding links has the same CID in both.
func TestSymlinkCIDsMatchKubo(t *testing.T) {
	tests := []struct {
		name string
		node files.Node
		want string
	}{
		{"relative link", files.NewSymlinkFile("../a.txt", timeZero), "bafybeignpr577tcjunbdm5hcpud4a2xcyd7427uwi4hu52wlml7gfv4yoi"},
		{"absolute link", files.NewSymlinkFile("/etc/hostname", timeZero), "bafybeiafnwkigusdv5z55dba53drvlchrzwbbx6petmkg3etjl3fm2d4iq"},
		// `ipfs add -r -H dir` of: .hidden ("secret\n"), abs -> /etc/hostname,
		// link -> ../a.txt, sub/x ("x\n").
		{"folder with links and a hidden file", tree{
			".hidden": []byte("secret\n"),
			"abs":     link("/etc/hostname"),
			"link":    link("../a.txt"),
			"sub":     tree{"x": []byte("x\n")},
		}.node(), "bafybeiby3kifejm34eaqasq2errdqr2ega5722chvfje36d6clhw6mjyt4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := importNode(t, blockstore.NewMemStore(), tt.node)
			if res.Root.String() != tt.want {
				t.Fatalf("CID %s, Kubo gives %s", res.Root, tt.want)
			}
		})
	}
}

func TestSymlinksRoundTrip(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	tr := symlinkTree()
	res := importNode(t, bs, tr.node())
	// Links are not content: the sizes count the files only.
	if res.Size != tr.size() {
		t.Errorf("Add size %d, want %d (files only)", res.Size, tr.size())
	}
	st, err := Stat(ctx, bs, res.Root)
	if err != nil || st.Size != tr.size() {
		t.Errorf("Stat = %+v, %v; want a folder of %d bytes", st, err, tr.size())
	}

	ents, err := Ls(ctx, bs, res.Root)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Entry{}
	for _, e := range ents {
		byName[e.Name] = e
	}
	for name, v := range tr {
		target, ok := v.(link)
		if !ok {
			continue
		}
		e := byName[name]
		if e.Type != TypeSymlink || e.Target != string(target) || e.Size != uint64(len(target)) {
			t.Errorf("Ls entry %s = %+v, want a symlink to %q", name, e, target)
		}
		if st, err := Stat(ctx, bs, e.Cid); err != nil || st.Type != TypeSymlink || st.Target != string(target) {
			t.Errorf("Stat(%s) = %+v, %v", name, st, err)
		}
		if _, _, err := Open(ctx, bs, e.Cid); !errors.Is(err, ErrIsSymlink) {
			t.Errorf("Open(%s) err = %v, want ErrIsSymlink", name, err)
		}
		if _, _, err := OpenStream(ctx, bs, e.Cid, 0); err == nil {
			t.Errorf("OpenStream(%s) opened a symbolic link as a file", name)
		}
	}
	links, err := LsLinks(ctx, bs, res.Root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range links {
		if want, ok := tr[e.Name].(link); ok && (e.Type != TypeSymlink || e.Target != string(want)) {
			t.Errorf("LsLinks entry %+v, want a symlink to %q", e, want)
		}
	}

	// Written back, each link is a link with the same target, never
	// followed (the dangling one and the absolute one included).
	out := filepath.Join(t.TempDir(), "out")
	var last int64
	if err := WriteTo(ctx, bs, res.Root, out, func(n int64) { last = n }); err != nil {
		t.Fatal(err)
	}
	diffTrees(t, "", tr, readDisk(t, out))
	if uint64(last) != res.Size {
		t.Errorf("progress ended at %d, want %d", last, res.Size)
	}

	// A link on its own is written as a link.
	one := filepath.Join(t.TempDir(), "one")
	if err := WriteTo(ctx, bs, byName["abs"].Cid, one, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(one); err != nil || got != "/etc/hostname" {
		t.Errorf("root link written as %q, %v", got, err)
	}
	if err := WriteTo(ctx, bs, byName["abs"].Cid, one, nil); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second write over the link: %v, want ErrExist", err)
	}
}

// TestWriteToNeverWritesThroughALink: a hostile folder lists the same name
// twice, once as a link to a folder outside the output and once as a folder
// holding a file. Whichever comes first, the second fails and nothing is
// written outside the output.
func TestWriteToNeverWritesThroughALink(t *testing.T) {
	ctx := context.Background()
	for _, linkFirst := range []bool{true, false} {
		name := map[bool]string{true: "link first", false: "folder first"}[linkFirst]
		t.Run(name, func(t *testing.T) {
			bs := blockstore.NewMemStore()
			outside := t.TempDir()
			data, err := ft.SymlinkData(outside)
			if err != nil {
				t.Fatal(err)
			}
			lnk := merkledag.NodeWithData(data)
			_ = lnk.SetCidBuilder(merkledag.V1CidPrefix())
			inner := importNode(t, bs, tree{"pwned": []byte("pwned\n")}.node())
			top := ft.EmptyDirNode()
			_ = top.SetCidBuilder(merkledag.V1CidPrefix())
			entries := []*ipld.Link{{Cid: lnk.Cid()}, {Cid: inner.Root}}
			if !linkFirst {
				entries[0], entries[1] = entries[1], entries[0]
			}
			for _, l := range entries {
				if err := top.AddRawLink("x", l); err != nil {
					t.Fatal(err)
				}
			}
			if err := bs.PutMany(ctx, []blocksBlock{lnk, top}); err != nil {
				t.Fatal(err)
			}
			parent := t.TempDir()
			if err := WriteTo(ctx, bs, top.Cid(), filepath.Join(parent, "out"), nil); err == nil {
				t.Fatal("a folder naming x twice was written")
			}
			noLeftovers(t, outside)
			noLeftovers(t, parent)
		})
	}
}
