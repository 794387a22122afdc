package bitswap

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	bsiface "github.com/ipfs/boxo/bitswap/network"
	blocks "github.com/ipfs/go-block-format"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// failingNetwork fails the first fails sends with err, then sends.
type failingNetwork struct {
	bsiface.BitSwapNetwork
	mu    sync.Mutex
	fails int
	err   error
	tries int
}

func (f *failingNetwork) SendMessage(ctx context.Context, p peer.ID, msg bsmsg.BitSwapMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries++
	if f.tries <= f.fails {
		return f.err
	}
	return nil
}

// TestServerSendsAgainWhatFailed: boxo's server forgets a message whose
// send failed, so the network it sends through tries again while the
// peer is connected and the failure transient: a refused stream, a
// timeout; another failure or a cancelled send is not tried again, and the
// blocks are told served once, when sent.
func TestServerSendsAgainWhatFailed(t *testing.T) {
	saved := sendRetries
	sendRetries = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
	t.Cleanup(func() { sendRetries = saved })
	refused := fmt.Errorf("cannot reserve outbound stream: %w", network.ErrResourceLimitExceeded)
	tests := []struct {
		name      string
		fails     int
		err       error
		cancelled bool
		wantErr   bool
		wantTries int
	}{
		{"sent at once", 0, nil, false, false, 1},
		{"refused twice, then sent", 2, refused, false, false, 3},
		{"timed out once, then sent", 1, context.DeadlineExceeded, false, false, 2},
		{"refused every time", 10, refused, false, true, 4},
		{"not a transient error: not tried again", 10, errors.New("protocols not supported"), false, true, 1},
		{"cancelled", 10, context.Canceled, true, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := &failingNetwork{fails: tt.fails, err: tt.err}
			var served int
			e := &Exchange{served: func(peer.ID, blocks.Block) { served++ }}
			n := limitedNetwork{BitSwapNetwork: fn, e: e}
			msg := bsmsg.New(false)
			msg.AddBlock(blocks.NewBlock([]byte("a block")))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelled {
				cancel()
			}
			err := n.SendMessage(ctx, peer.ID("p"), msg)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, tt.err)) {
				t.Errorf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if fn.tries != tt.wantTries {
				t.Errorf("%d tries, want %d", fn.tries, tt.wantTries)
			}
			if want := map[bool]int{false: 1, true: 0}[tt.wantErr]; served != want {
				t.Errorf("told %d blocks served, want %d", served, want)
			}
		})
	}
}
