package groupnet

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/protocol/allocs"
	"github.com/kith-p2p/kith/protocol/group"
)

// Fuzz targets for what a group reads from the network: gossip payloads
// (opened with the group key, decoded, validated, merged) and sync streams
// (frames, hello, snapshot, reconciliation). The fuzzer cannot forge the
// group's authentication, so the harness seals what it generates with a
// fixed key, as a member would: the fuzzer reaches the decoders behind it.

var fuzzT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixedID returns the peer ID of a fixed Ed25519 key, so that seeds naming
// a sender stay valid from run to run.
func fixedID(tb testing.TB, i byte) peer.ID {
	tb.Helper()
	k, _, err := crypto.GenerateEd25519Key(bytes.NewReader(bytes.Repeat([]byte{i}, 32)))
	if err != nil {
		tb.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// fuzzWorld is a group of two members, us and them, as we know it.
type fuzzWorld struct {
	sec      group.Secret
	us, them peer.ID
	base     *group.State // our state: both members, a few intents
}

func newFuzzWorld(tb testing.TB) *fuzzWorld {
	tb.Helper()
	w := &fuzzWorld{us: fixedID(tb, 1), them: fixedID(tb, 2), base: group.NewState()}
	for i := range w.sec {
		w.sec[i] = byte(100 + i)
	}
	at := func() time.Time { return fuzzT0 }
	cu, ct := group.NewClock(w.us, at), group.NewClock(w.them, at)
	must := func(_ group.Update, err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(w.base.Join(cu, "laptop", nil, 1<<30))
	must(w.base.Join(ct, "desktop", []string{"/ip4/192.0.2.7/tcp/4001"}, 1<<40))
	for i := range 4 {
		must(w.base.Share([]*group.Clock{cu, ct}[i%2], testRoot(tb, string(rune('a'+i))), "photos", 100, 1+i%2))
	}
	return w
}

// group returns our side: a group holding a copy of the base state.
func (w *fuzzWorld) group() *Group {
	return newGroup(w.us, GroupOptions{Secret: w.sec, State: w.base.Clone(), Config: group.TestConfig()})
}

// checkState fails unless s is a state every peer could decode: whatever a
// peer made us merge, we can persist it and send it on.
func checkState(t *testing.T, s *group.State) {
	t.Helper()
	b, err := s.Marshal()
	if err != nil {
		t.Fatalf("state does not marshal: %v", err)
	}
	again, err := group.Unmarshal(b)
	if err != nil {
		t.Fatalf("a peer would refuse our state: %v", err)
	}
	if again.Digest() != s.Digest() {
		t.Fatal("state changed through marshalling")
	}
}

func wantKind(t *testing.T, err error, kinds ...error) {
	t.Helper()
	for _, k := range kinds {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("error of no kind: %v", err)
}

// allocLimit bounds what reading n bytes from a peer may allocate, our own
// answers included.
func allocLimit(n int) uint64 { return 4<<20 + 256*uint64(n) }

// FuzzCheckGossip feeds a group's topic validator a gossip payload from a
// member (sealed by the harness), then merges what it accepts.
func FuzzCheckGossip(f *testing.F) {
	w := newFuzzWorld(f)
	for _, u := range w.base.Entries() {
		b, err := group.EncodeMessage(group.Message{Update: &u})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	d := w.base.Digest()
	hb := group.Heartbeat{
		Member: w.them, Clock: group.HLC{Wall: fuzzT0.UnixMilli(), Node: w.them}, Incarnation: 1,
		Used: 1 << 20, Held: 1, Parts: 1, Roots: []cid.Cid{w.base.Intents()[0].Root}, Digest: d[:group.HeartbeatDigestLen], Every: time.Second,
	}
	b, err := group.EncodeMessage(group.Message{Heartbeat: &hb})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	now := fuzzT0.Add(time.Hour)
	f.Fuzz(func(t *testing.T, plain []byte) {
		g := w.group()
		// As they come, the bytes are not a payload of the group.
		if _, err := g.check(w.them, plain, now); err == nil {
			t.Fatal("unsealed bytes accepted")
		} else {
			wantKind(t, err, group.ErrAuth, group.ErrTooLarge)
		}
		sealed := g.keys.Seal(w.them, plain)
		var msg group.Message
		if n := allocs.During(func() { msg, err = g.check(w.them, sealed, now) }); n > allocLimit(len(plain)) {
			t.Fatalf("checking %d bytes allocated %d", len(plain), n)
		}
		if err != nil {
			wantKind(t, err, group.ErrInvalid, group.ErrTooLarge, group.ErrNotMember, group.ErrClockSkew)
			return
		}
		g.deliver(msg, now)
		checkState(t, g.state)
	})
}

// Chunks of FuzzSyncStream's input: a kind byte, a uvarint length, and that
// many bytes (or what is left). An even kind is a frame's plain content,
// sealed and framed by the harness as the peer would (kind 2 mod 4: a
// content frame, named as epoch 0's); an odd kind goes on the stream as it
// is (lengths that lie, frames that do not open).
const (
	chunkSealed  = 0
	chunkRaw     = 1
	chunkContent = 2
)

func appendChunk(b []byte, kind byte, data []byte) []byte {
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

// streamOf turns FuzzSyncStream's input into the bytes the peer sends.
func streamOf(keys *group.Keys, them peer.ID, in []byte) []byte {
	var out []byte
	for len(in) > 0 {
		kind := in[0]
		in = in[1:]
		n, k := binary.Uvarint(in)
		var data []byte
		if k <= 0 || n > uint64(len(in)-k) {
			data, in = in, nil
		} else {
			data, in = in[k:k+int(n)], in[k+int(n):]
		}
		if kind%2 == chunkRaw {
			out = append(out, data...)
			continue
		}
		sealed := keys.Seal(them, data)
		if kind%4 == chunkContent {
			sealed = append(appendEpochRef(nil, group.EpochRef{}), sealed...)
		}
		out = binary.AppendUvarint(out, uint64(len(sealed)))
		out = append(out, sealed...)
	}
	return out
}

// recordSync runs a sync between us and them over a pipe and returns what
// them sent, as FuzzSyncStream input.
func recordSync(tb testing.TB, us, them *Group, weInitiate bool) []byte {
	tb.Helper()
	ca, cb := net.Pipe()
	defer ca.Close()
	defer cb.Close()
	deadline := time.Now().Add(5 * time.Second)
	_ = ca.SetDeadline(deadline)
	_ = cb.SetDeadline(deadline)
	var rec bytes.Buffer
	done := make(chan error, 1)
	go func() {
		err := them.runSync(struct {
			io.Reader
			io.Writer
		}{cb, io.MultiWriter(cb, &rec)}, us.self, !weInitiate)
		cb.Close()
		done <- err
	}()
	errUs := us.runSync(ca, them.self, weInitiate)
	ca.Close()
	if err := <-done; err != nil || errUs != nil {
		tb.Fatalf("recorded sync: %v / %v", errUs, err)
	}
	var in []byte
	r := bufio.NewReader(&rec)
	for {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return in
		}
		sealed := make([]byte, n)
		if _, err := io.ReadFull(r, sealed); err != nil {
			tb.Fatal(err)
		}
		kind := byte(chunkSealed)
		plain, err := them.keys.Open(them.self, sealed)
		if err != nil {
			// A content frame: epoch 0's name, then the sealed bytes.
			_, rest, rerr := readEpochRef(sealed)
			if rerr != nil {
				tb.Fatal(err)
			}
			kind = chunkContent
			if plain, err = them.keys.Open(them.self, rest); err != nil {
				tb.Fatal(err)
			}
		}
		in = appendChunk(in, kind, plain)
	}
}

// FuzzSyncStream runs our side of a sync stream against what the fuzzer
// sends as the peer: frames, hello, snapshot and reconciliation messages.
func FuzzSyncStream(f *testing.F) {
	w := newFuzzWorld(f)
	// Their state: they never synced (so we send a snapshot) and hold an
	// intent we lack.
	theirs := func() *Group {
		st := group.NewState()
		for _, u := range w.base.Entries() {
			if _, err := st.ApplyUpdate(u); err != nil {
				f.Fatal(err)
			}
		}
		g := newGroup(w.them, GroupOptions{Secret: w.sec, State: st, Config: group.TestConfig()})
		c := group.NewClock(w.them, func() time.Time { return fuzzT0.Add(time.Minute) })
		if _, err := st.Share(c, testRoot(f, "theirs"), "music", 10, 1); err != nil {
			f.Fatal(err)
		}
		return g
	}
	for _, weInitiate := range []bool{false, true} {
		us := w.group()
		us.state.MarkSynced(time.Now())
		f.Add(weInitiate, recordSync(f, us, theirs(), weInitiate))
	}
	f.Add(false, appendChunk(nil, chunkRaw, []byte{0xff, 0xff, 0xff, 0x1f}))
	f.Fuzz(func(t *testing.T, weInitiate bool, in []byte) {
		g := w.group()
		stream := streamOf(g.keys, w.them, in)
		rw := struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(stream), io.Discard}
		var err error
		if n := allocs.During(func() { err = g.runSync(rw, w.them, weInitiate) }); n > allocLimit(len(stream)) {
			t.Fatalf("a sync reading %d bytes allocated %d", len(stream), n)
		}
		_ = err // any error ends the stream; what matters is the state it leaves
		checkState(t, g.state)
	})
}
