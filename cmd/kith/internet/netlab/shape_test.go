//go:build linux

package netlab_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/kith-p2p/kith/cmd/kith/internet/netlab"
)

// TestShaping measures TCP throughput through a shaped router, both ways,
// then with the shaping removed. Each measured rate must be within 0.5x and
// 1.5x of the configured one: loose, since the machine may be busy.
func TestShaping(t *testing.T) {
	const up, down = 16 * netlab.Mbit, 32 * netlab.Mbit
	lab := netlab.New(t)
	server := lab.PublicHost("server")
	router := lab.HomeRouter("home", netlab.RouterConfig{Up: up, Down: down})
	laptop := router.Laptop("laptop")

	// About two seconds of traffic at each rate.
	upload := func(bytes int64) netlab.Rate {
		sink := startHelper(t, server.Namespace, "tcp-sink", "9000")
		sink.expect("ready", step)
		startHelper(t, laptop.Namespace, "tcp-send", server.Addr().String()+":9000", strconv.FormatInt(bytes, 10))
		return measured(t, sink.fields("received", time.Minute))
	}
	download := func(bytes int64) netlab.Rate {
		src := startHelper(t, server.Namespace, "tcp-source", "9001", strconv.FormatInt(bytes, 10))
		src.expect("ready", step)
		return measured(t, startHelper(t, laptop.Namespace, "tcp-recv", server.Addr().String()+":9001").fields("received", time.Minute))
	}
	check := func(what string, got, want netlab.Rate) {
		t.Helper()
		t.Logf("%s: measured %.1f Mbit/s, shaped to %s", what, float64(got)/float64(netlab.Mbit), want)
		if got < want/2 || got > want*3/2 {
			t.Errorf("%s: measured %.1f Mbit/s, want %s within 0.5x-1.5x", what, float64(got)/float64(netlab.Mbit), want)
		}
	}
	check("upload", upload(int64(2*up/8)), up)
	check("download", download(int64(2*down/8)), down)

	router.Shape(0, 0)
	free := upload(int64(4 * up / 8))
	t.Logf("unshaped upload: measured %.1f Mbit/s", float64(free)/float64(netlab.Mbit))
	if free < up*3/2 {
		t.Errorf("upload after Shape(0, 0) measured %.1f Mbit/s, still near the removed limit of %s", float64(free)/float64(netlab.Mbit), up)
	}
}

// measured turns a helper's "received BYTES NANOSECONDS" into a rate.
func measured(t *testing.T, f []string) netlab.Rate {
	t.Helper()
	n, err1 := strconv.ParseInt(f[1], 10, 64)
	ns, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || ns <= 0 {
		t.Fatalf("bad measurement %q", f)
	}
	return netlab.Rate(float64(n) * 8 / (float64(ns) / 1e9))
}
