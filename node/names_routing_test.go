package node

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"

	"github.com/kith-p2p/kith/dht/delegated/indextest"
	"github.com/kith-p2p/kith/web/api"
)

// TestNamesThroughDelegatedRouter: two nodes that share no DHT peer (a
// fresh laptop's, before it joined) publish and look names up through a
// delegated router (names.delegated_routers, as delegated-ipfs.dev): the
// publish is taken by the router though no DHT peer is there, the lookup
// answers without waiting for one, a newer record wins, and a name the
// router lacks is not found (not "no DHT peer"). The router's record
// serves ?format=ipns-record on the gateway too.
func TestNamesThroughDelegatedRouter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var index indextest.Index
	router := index.Serve(t)
	withRouter := func(c *Config) { c.Names.DelegatedRouters = []string{router} }
	a, b := newNodeAt(t, t.TempDir(), withRouter), newNodeAt(t, t.TempDir(), withRouter)
	a.dhtPeerWait = 0 // no DHT peer will come: the router takes the record
	// b waits for no DHT peer: were it to, the lookup would take 15 s.

	first, second := addData(t, a, randomData(1000)), addData(t, a, randomData(1000))
	rec, err := a.PublishName(ctx, first, api.NameOptions{})
	if err != nil {
		t.Fatalf("publish with no DHT peer but a router: %v", err)
	}
	name, err := ipns.NameFromString(rec.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := index.Record(name); !ok {
		t.Fatal("the router holds no record of the name")
	}
	start := time.Now()
	if got, err := b.ResolveRef(ctx, "/ipns/"+rec.Name); err != nil || got != first {
		t.Fatalf("B resolved the name to %s, %v; want %s", got, err, first)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the lookup took %v: it waited for a DHT peer", took) // not a timing assertion: 15 s against under one
	}
	if _, err := a.PublishName(ctx, second, api.NameOptions{}); err != nil {
		t.Fatal(err)
	}
	b2 := newNodeAt(t, t.TempDir(), withRouter) // b caches the first answer for the record's TTL
	if got, err := b2.ResolveRef(ctx, "/ipns/"+rec.Name); err != nil || got != second {
		t.Fatalf("a third node resolved the name to %s, %v; want the newer %s", got, err, second)
	}

	b.dhtPeerWait = 0 // the router has no record: the lookup waits for the DHT, which has no peer
	_, err = b.ResolveRef(ctx, "/ipns/"+unpublishedName(t).String())
	if api.KindOf(err) != api.KindNotFound {
		t.Errorf("a name the router lacks: %v (%v), want not found", err, api.KindOf(err))
	}
	if d, err := b.Doctor(ctx); err != nil || !strings.HasPrefix(d.Routers, router+" (names): answered ") {
		t.Errorf("the doctor's routers: %q (%v)", d.Routers, err)
	}

	resp, body := gatewayGet(t, b2, "", "/ipns/"+rec.Name+"?format=ipns-record", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("?format=ipns-record: %s: %s", resp.Status, body)
	}
	got, err := ipns.UnmarshalRecord(body)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := got.Value(); v.String() != "/ipfs/"+second.String() {
		t.Errorf("the record served points to %s, want /ipfs/%s", v, second)
	}
}
