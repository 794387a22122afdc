package node

import (
	"fmt"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/kith-p2p/kith/protocol/group"
)

func versionCID(t *testing.T, s string) cid.Cid {
	t.Helper()
	h, err := mh.Sum([]byte(s), mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

// TestSameName: the other versions of a share are the live intents of the
// same name for another root, oldest first; nameless content has none.
func TestSameName(t *testing.T) {
	v1, v2, v3, other := versionCID(t, "v1"), versionCID(t, "v2"), versionCID(t, "v3"), versionCID(t, "other")
	at := func(ms int64) group.HLC { return group.HLC{Wall: ms} }
	intents := []group.Intent{
		{Root: v2, Name: "photos", Created: at(20)},
		{Root: other, Name: "notes", Created: at(5)},
		{Root: v1, Name: "photos", Created: at(10)},
		{Root: v3, Name: "photos", Created: at(30)},
		{Root: versionCID(t, "gone"), Name: "photos", Created: at(1), Withdrawn: true},
		{Root: versionCID(t, "anon"), Name: "", Created: at(2)},
	}
	tests := []struct {
		name string
		root cid.Cid
		want []cid.Cid
	}{
		{"photos", v3, []cid.Cid{v1, v2}},
		{"photos", v1, []cid.Cid{v2, v3}},
		{"photos", versionCID(t, "v4"), []cid.Cid{v1, v2, v3}},
		{"notes", other, nil},
		{"", versionCID(t, "anon2"), nil},
		{"PHOTOS", v3, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s", tt.name, tt.root), func(t *testing.T) {
			got := sameName(intents, tt.name, tt.root)
			var roots []cid.Cid
			for _, i := range got {
				roots = append(roots, i.Root)
			}
			if fmt.Sprint(roots) != fmt.Sprint(tt.want) {
				t.Fatalf("sameName = %v, want %v", roots, tt.want)
			}
		})
	}
}
