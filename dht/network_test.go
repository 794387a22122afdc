package dht

import (
	"fmt"
	"testing"

	"github.com/ipfs/go-cid"
)

// TestFiveNodeNetwork: five nodes bootstrap from the first one; each
// provides its own key, and every node finds every other node's key.
func TestFiveNodeNetwork(t *testing.T) {
	ctx := testContext(t)
	const n = 5
	nodes := []*node{newNode(t)}
	for i := 1; i < n; i++ {
		nodes = append(nodes, newNode(t, bootstrapPeers(nodes[0])))
	}
	bootstrap(t, ctx, nodes[1:]...)
	for i, nd := range nodes {
		if nd.d.RoutingTableSize() == 0 {
			t.Fatalf("node %d has an empty routing table after bootstrap", i)
		}
	}

	keys := make([]cid.Cid, n)
	for i, nd := range nodes {
		keys[i] = testCID(t, fmt.Sprintf("five nodes %d", i))
		if err := nd.d.ProvideNow(ctx, keys[i]); err != nil {
			t.Fatalf("node %d provide now: %v", i, err)
		}
	}
	for i, finder := range nodes {
		for j, prov := range nodes {
			if i == j {
				continue
			}
			waitFor(t, fmt.Sprintf("node %d to find node %d's key", i, j), func() bool {
				ai, ok := findProvider(ctx, finder.d, keys[j], prov.h.ID())
				return ok && len(ai.Addrs) > 0
			})
		}
	}
}
