package node

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// lockedBuffer is a log destination a test reads while the node writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLANPeerDialedAgain: mDNS reports a peer once for as long as its
// record lives, so a peer whose first dial failed (here: its daemon was
// not listening yet) must be dialled again until it is met.
func TestLANPeerDialedAgain(t *testing.T) {
	var log lockedBuffer
	a, err := New(Options{Repo: t.TempDir(), Profile: "local", Configure: nil,
		Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })

	// B runs once to learn its identity and addresses, and stops.
	dirB := t.TempDir()
	b := newNodeAt(t, dirB, nil)
	info := peer.AddrInfo{ID: b.host.ID(), Addrs: b.host.Addrs()}
	var listen []string
	for _, addr := range info.Addrs {
		listen = append(listen, addr.String())
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	(&mdnsNotifee{n: a}).HandlePeerFound(info)
	waitFor(t, 20*time.Second, "A's first dial to B to fail", func() bool {
		return strings.Contains(log.String(), "connect to LAN peer")
	})
	// B comes up on the same addresses: A must meet it without mDNS
	// reporting it again.
	newNodeAt(t, dirB, func(c *Config) { c.Network.ListenAddrs = listen })
	// Wait for the dial's own report: the connection shows as Connected
	// before host.Connect returns (it waits for identify), so polling the
	// connectedness alone would race the log line.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(log.String(), "connected to LAN peer") {
		if time.Now().After(deadline) {
			t.Fatalf("A did not connect to B by dialling it again; log:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if a.host.Network().Connectedness(info.ID) != network.Connected {
		t.Errorf("A says it connected to B, but is not connected; log:\n%s", log.String())
	}
}
