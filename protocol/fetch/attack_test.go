package fetch

import (
	"context"
	"encoding/binary"
	"runtime"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	tcptransport "github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/kith-p2p/kith/blockstore"
)

// TestServerMemoryUnderAttack is the review's attack: 8 peer identities,
// 66 streams each, every stream sending a frame header and all but one
// byte of its body, then holding the last. Before the fix the server
// allocated each body in full at its header (2 MiB per Block frame, ~540
// KB per Request), ~1 GiB here. Now a Block frame is refused at its header
// (only a Request may open a stream), and request bodies are reserved from
// the resource manager, whose /kith/fetch limits (AddLimits, scaled to the
// daemon's default 512 MiB) bound them: the heap may grow by at most
// heapBound while the attack holds.
func TestServerMemoryUnderAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("moves ~100 MB over loopback")
	}
	const (
		peers, streams = 8, 66
		heapBound      = 96 << 20
	)
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	AddLimits(&limits)
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits.Scale(512<<20, 4096)))
	if err != nil {
		t.Fatal(err)
	}
	srv := newLoopbackHost(t, libp2p.ResourceManager(rm))
	serve(t, srv, blockstore.NewMemStore())

	for _, tc := range []struct {
		name string
		t    MsgType
		body int
	}{
		{"block frames first", MsgBlock, maxBlockBody},
		{"request bodies held back", MsgRequest, maxRequestBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := liveHeap()
			attackers := make([]host.Host, peers)
			for i := range attackers {
				attackers[i] = newLoopbackHost(t)
				if err := attackers[i].Connect(context.Background(), addrInfo(srv)); err != nil {
					t.Fatal(err)
				}
			}
			hdr := binary.AppendUvarint(nil, uint64(1+tc.body))
			hdr = append(hdr, byte(tc.t))
			body := make([]byte, tc.body-1)
			var (
				wg            sync.WaitGroup
				mu            sync.Mutex
				held, refused int
				open          []network.Stream
			)
			for _, a := range attackers {
				for range streams {
					wg.Go(func() {
						s, err := a.NewStream(context.Background(), srv.ID(), ID)
						if err == nil {
							// Whatever the server answers (an Error frame,
							// the end of the stream, a reset) refuses the
							// attack on this stream: stop writing.
							go func() {
								var b [1]byte
								_, _ = s.Read(b[:])
								_ = s.Reset()
							}()
							_, err = s.Write(hdr)
						}
						if err == nil {
							_, err = s.Write(body)
						}
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							refused++
							return
						}
						held++
						open = append(open, s)
					})
				}
			}
			// Every stream was either refused or has sent all it will.
			wg.Wait()
			grew := int64(liveHeap()) - int64(before)
			t.Logf("%d streams held, %d refused; live heap grew by %d MiB (bound %d MiB)", held, refused, grew>>20, heapBound>>20)
			if grew > heapBound {
				t.Errorf("live heap grew by %d MiB under the attack, bound %d MiB", grew>>20, heapBound>>20)
			}
			for _, s := range open {
				_ = s.Reset()
			}
			for _, a := range attackers {
				_ = a.Close()
			}
		})
	}
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// newLoopbackHost is a real libp2p host on 127.0.0.1 (TCP), closed at the
// end of the test.
func newLoopbackHost(tb testing.TB, opts ...libp2p.Option) host.Host {
	tb.Helper()
	h, err := libp2p.New(append([]libp2p.Option{
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.DisableRelay(), libp2p.NoTransports, libp2p.Transport(tcptransport.NewTCPTransport),
	}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = h.Close() })
	return h
}
