package dag

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
)

func TestSplitPath(t *testing.T) {
	const c = "bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe"
	tests := []struct {
		in    string
		root  string
		names []string
		bad   bool
	}{
		{c, c, nil, false},
		{" " + c + "\n", c, nil, false},
		{c + "/a/b.txt", c, []string{"a", "b.txt"}, false},
		{"/ipfs/" + c + "/a", c, []string{"a"}, false},
		{"ipfs://" + c + "/a/", c, []string{"a"}, false},
		{c + "//a///b", c, []string{"a", "b"}, false},
		{"kith1abc/x y.txt", "kith1abc", []string{"x y.txt"}, false},
		{"/ipns/k51qzi5uqu5dl/a/b", "/ipns/k51qzi5uqu5dl", []string{"a", "b"}, false},
		{"ipns://docs.example.org/", "/ipns/docs.example.org", nil, false},
		{"/ipns/docs.example.org/../x", "", nil, true},
		{"/ipns/", "", nil, true},
		{"ipns://", "", nil, true},
		{c + "/a/../b", "", nil, true},
		{c + "/./b", "", nil, true},
		{"/ipfs/", "", nil, true},
		{"https://ipfs.io/ipfs/" + c + "/a%20b/c.txt?filename=x#top", c, []string{"a b", "c.txt"}, false},
		{"http://127.0.0.1:8080/ipfs/" + c, c, nil, false},
		{"https://" + c + ".ipfs.dweb.link/a/", c, []string{"a"}, false},
		{"HTTP://" + strings.ToUpper(c[:1]) + c[1:] + ".IPFS.localhost:8080/", c, nil, false},
		{"https://dweb.link/ipns/docs.example.org/x", "/ipns/docs.example.org", []string{"x"}, false},
		{"https://k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8.ipns.dweb.link/x", "/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8", []string{"x"}, false},
		{"https://my--docs-example-org.ipns.dweb.link/", "/ipns/my-docs.example.org", nil, false},
		{"http://docs.example.org.ipns.localhost:5091/", "/ipns/docs.example.org", nil, false},
		{"https://gateway.ipfs.io/ipfs/" + c + "/a", c, []string{"a"}, false},
		{"https://gateway.ipns.example.com/ipns/docs.example.org", "/ipns/docs.example.org", nil, false},
		{"https://example.org/some/page", "", nil, true},
		{"https://a.b.ipfs.dweb.link/", "", nil, true},
		{"https://ipfs.io/ipfs/" + c + "/../x", "", nil, true},
		{"https://", "", nil, true},
		{"/a/b", "", nil, true},
		{"", "", nil, true},
	}
	for _, tt := range tests {
		root, names, err := SplitPath(tt.in)
		if tt.bad {
			if !errors.Is(err, ErrBadPath) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.in)) {
				t.Errorf("SplitPath(%q) = %q %q, %v; want ErrBadPath naming the path", tt.in, root, names, err)
			}
			continue
		}
		if err != nil || root != tt.root || fmt.Sprint(names) != fmt.Sprint(tt.names) {
			t.Errorf("SplitPath(%q) = %q %q, %v; want %q %q", tt.in, root, names, err, tt.root, tt.names)
		}
	}
}

// TestResolve follows names through plain and HAMT-sharded folders to
// files and folders, and says what stops it: a name not there, a file or
// a symbolic link on the way (never followed).
func TestResolve(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	tr := sampleTree()
	big := hamtTree(5000)
	big["nested"] = tree{"leaf.txt": []byte("leaf\n")}
	tr["big"] = big
	dir := tr.node().(files.Directory)
	root := importNode(t, bs, files.NewMapDirectory(map[string]files.Node{
		"tree": dir,
		"link": files.NewLinkFile("tree/sub", nil),
	})).Root
	ls := func(t *testing.T, c cid.Cid, name string) cid.Cid {
		t.Helper()
		ents, err := Ls(ctx, bs, c)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Name == name {
				return e.Cid
			}
		}
		t.Fatalf("no %s in %s", name, c)
		return cid.Undef
	}
	treeCID := ls(t, root, "tree")
	sub := ls(t, treeCID, "sub")
	bigCID := ls(t, treeCID, "big")
	nested := ls(t, bigCID, "nested")

	tests := []struct {
		path string
		want cid.Cid
		err  error
		msg  string
	}{
		{"", root, nil, ""},
		{"tree/sub", sub, nil, ""},
		{"tree/sub/deeper/ünïcode", ls(t, ls(t, sub, "deeper"), "ünïcode"), nil, ""},
		{"tree/hello.txt", ls(t, treeCID, "hello.txt"), nil, ""},
		{"tree/big/" + fmt.Sprintf("%0200d", 4321), ls(t, bigCID, fmt.Sprintf("%0200d", 4321)), nil, ""},
		{"tree/big/nested/leaf.txt", ls(t, nested, "leaf.txt"), nil, ""},
		{"tree/nothing", cid.Undef, ErrNoEntry, root.String() + `/tree holds no "nothing"`},
		{"tree/big/nothing", cid.Undef, ErrNoEntry, `/tree/big holds no "nothing"`},
		{"tree/hello.txt/x", cid.Undef, ErrNotDir, "/tree/hello.txt is a file, not a folder"},
		{"link/deeper", cid.Undef, ErrIsSymlink, "/link is a symbolic link (to tree/sub), which kith does not follow"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var names []string
			if tt.path != "" {
				names = strings.Split(tt.path, "/")
			}
			got, err := Resolve(ctx, bs, root, names)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("Resolve = %v, want %v saying %q", err, tt.err, tt.msg)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Resolve = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}
