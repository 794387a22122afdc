package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/node/atomicfile"
	"github.com/kith-p2p/kith/protocol/code"
	"github.com/kith-p2p/kith/protocol/ticket"
	"github.com/kith-p2p/kith/web/api"
)

// Codes: the short codes `kith send` prints (protocol/code). A code is
// open while the request that opened it lasts (the send runs); meanwhile
// its rendezvous key is announced in the DHT (unless dht.announce is off:
// then only peers connected to this one, on the LAN say, find it) and a
// getter that proves it knows the code is given the content's ticket as
// this node makes it then. The codes are passwords: never logged.

const (
	// maxWrongProofs closes an open code after that many wrong proofs of
	// it: a code is about 46 bits, and nobody gets to try more than a few.
	maxWrongProofs = 10
	// codeLookup bounds a getter's search for a code's sender, looked
	// for again every codeLookAgain.
	codeLookup    = time.Minute
	codeLookAgain = 2 * time.Second
)

// errWrongProofs is why the daemon closed an open code.
var errWrongProofs = errors.New("closed after too many wrong proofs (someone who saw where it is announced tried to guess it): the ticket still works; send again for a new code")

// openCode is one open code.
type openCode struct {
	keys   code.Keys
	cid    cid.Cid
	wrong  int           // wrong proofs of it
	closed chan error    // told, once, why the daemon closed it
	gone   chan struct{} // closed with it: its rendezvous is withdrawn at once
}

// codeBook holds the open codes.
type codeBook struct {
	mu   sync.Mutex
	open map[*openCode]bool
}

// codesFile lists, in the repo, the rendezvous keys of the codes open now
// (never the codes): the DHT's provider keeps what it announces across
// restarts, and a daemon that stopped without closing them (a crash)
// withdraws them when it starts again.
const codesFile = "codes-open.json"

// saveCodesLocked writes codesFile for the open codes.
func (n *Node) saveCodesLocked() {
	keys := []string{}
	for oc := range n.codes.open {
		keys = append(keys, oc.keys.Rendezvous.String())
	}
	b, _ := json.Marshal(keys)
	if err := atomicfile.Write(filepath.Join(n.repo.dir, codesFile), b, 0o600); err != nil {
		n.log.Warn("code: could not note the open codes' rendezvous keys", "err", err)
	}
}

// withdrawStaleCodes stops announcing the rendezvous keys of the codes a
// daemon left open when it stopped.
func (n *Node) withdrawStaleCodes(ctx context.Context) {
	p := filepath.Join(n.repo.dir, codesFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return
	}
	var keys []string
	_ = json.Unmarshal(b, &keys)
	for _, k := range keys {
		if c, err := cid.Decode(k); err == nil && n.dht != nil {
			_ = n.dht.StopProviding(ctx, c)
		}
	}
	_ = os.Remove(p)
}

// OpenCode opens a code for c, which must be pinned here, until ctx ends;
// closed tells why if the daemon closes it first.
func (n *Node) OpenCode(ctx context.Context, c cid.Cid) (string, <-chan error, error) {
	if ok, err := n.store.Has(ctx, c); err != nil || !ok {
		return "", nil, &api.Error{Kind: api.KindNotFound, Message: fmt.Sprintf("%s is not in this repo: add it first", c)}
	}
	s, err := code.New()
	if err != nil {
		return "", nil, err
	}
	keys, err := code.KeysOf(s)
	if err != nil {
		return "", nil, fmt.Errorf("open a code: %w", err)
	}
	oc := &openCode{keys: keys, cid: c, closed: make(chan error, 1), gone: make(chan struct{})}
	n.codes.mu.Lock()
	if n.codes.open == nil {
		n.codes.open = map[*openCode]bool{}
	}
	n.codes.open[oc] = true
	n.saveCodesLocked()
	n.codes.mu.Unlock()
	announced := false
	if n.dht != nil && n.cfg.DHT.Announce {
		if err := n.dht.Provide(ctx, keys.Rendezvous); err != nil {
			n.log.Warn("code: could not announce a code's rendezvous in the DHT: only connected peers find it", "err", err)
		} else {
			announced = true
		}
	}
	n.background(func(nctx context.Context) {
		select {
		case <-ctx.Done():
		case <-nctx.Done():
		case <-oc.gone:
		}
		n.codes.mu.Lock()
		delete(n.codes.open, oc)
		n.saveCodesLocked()
		n.codes.mu.Unlock()
		if announced {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(nctx), 10*time.Second)
			defer cancel()
			_ = n.dht.StopProviding(sctx, keys.Rendezvous)
		}
	})
	return s, oc.closed, nil
}

// answerCode is the code protocol's answer to question q from p: the
// ticket of the open code it proves, else "" (a code here that q is about
// but does not prove is closed after maxWrongProofs such questions).
func (n *Node) answerCode(p peer.ID, q code.Question) string {
	n.codes.mu.Lock()
	var found *openCode
	for oc := range n.codes.open {
		if !oc.keys.About(q) {
			continue
		}
		if oc.keys.Proves(q.Proof, p, n.host.ID()) {
			found = oc
			break
		}
		oc.wrong++
		if oc.wrong >= maxWrongProofs {
			n.log.Warn("code: closed an open code after too many wrong proofs", "peer", p, "cid", oc.cid)
			oc.closed <- errWrongProofs
			close(oc.gone)
			delete(n.codes.open, oc)
			n.saveCodesLocked()
		}
	}
	n.codes.mu.Unlock()
	if found == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
	defer cancel()
	t, err := n.Ticket(ctx, found.cid)
	if err != nil {
		return ""
	}
	n.log.Info("code: gave a getter the ticket of an open code", "peer", p, "cid", found.cid)
	return t.Ticket
}

// ResolveCode finds the sender of the code s (its connected peers first,
// then through the DHT) and returns the ticket it gives.
func (n *Node) ResolveCode(ctx context.Context, s string) (string, error) {
	c, ok := code.Parse(s)
	if !ok {
		return "", &api.Error{Kind: api.KindInvalid, Message: fmt.Sprintf("%q is not a code (a number and three words, as 7961-orbit-canyon-velvet)", short(s))}
	}
	keys, err := code.KeysOf(c)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, codeLookup)
	defer cancel()
	found := make(chan string, 1)
	var wg sync.WaitGroup
	tried := map[peer.ID]bool{}
	ask := func(p peer.ID) {
		tried[p] = true
		wg.Go(func() {
			t, err := code.Ask(ctx, n.host, p, keys)
			if err != nil {
				return
			}
			if _, err := ticket.Parse(t); err != nil {
				n.log.Debug("code: a peer answered with no ticket", "peer", p, "err", err)
				return
			}
			select {
			case found <- t:
				cancel() // the others stop
			default:
			}
		})
	}
	// Looked for again every few seconds: the sender's announcement may
	// not have reached the DHT yet (a code read out at once), nor this
	// daemon have its DHT peers (one just started for the get).
	for {
		for _, p := range n.host.Network().Peers() {
			if ok, _ := n.host.Peerstore().SupportsProtocols(p, code.ID); len(ok) > 0 && !tried[p] {
				ask(p)
			}
		}
		if n.dht != nil {
			for ai := range n.dht.FindProviders(ctx, keys.Rendezvous, 20) {
				if tried[ai.ID] || ai.ID == n.host.ID() {
					continue
				}
				if err := n.host.Connect(ctx, ai); err != nil {
					continue
				}
				ask(ai.ID)
			}
		}
		wg.Wait()
		select {
		case t := <-found:
			return t, nil
		default:
		}
		select {
		case <-ctx.Done():
		case <-time.After(codeLookAgain):
			continue
		}
		break
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return "", err
	}
	return "", &api.Error{Kind: api.KindNotFound, Message: fmt.Sprintf("no sender answered code %s: check it, and that the send still runs on the other computer (a code is found through the DHT, or among connected peers; else give the whole ticket)", c)}
}
