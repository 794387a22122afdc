package node

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkGatewayFirstByte opens a 1 GiB file another node holds through
// this node's gateway, as a browser opens a video: the time to the first
// byte of the whole file (nothing of it here yet), then of a seek to its
// middle (a Range request from there). Each run starts a fresh viewer, so
// every open is cold. Run with `make bench`; BENCHMARKS.md records the
// medians.
func BenchmarkGatewayFirstByte(b *testing.B) {
	const size = 1 << 30
	holder := benchNode(b, nil)
	file := newPatternFile(size)
	root := file.add(b, holder, "film.mp4")
	for b.Loop() {
		b.StopTimer()
		viewer := benchNode(b, nil)
		benchConnect(b, viewer, holder)
		b.StartTimer()
		open := firstByte(b, viewer, "/ipfs/"+root.String()+"?filename=film.mp4", "", file.at(0, 1))
		seek := firstByte(b, viewer, "/ipfs/"+root.String()+"?filename=film.mp4", fmt.Sprintf("bytes=%d-", size/2+777), file.at(size/2+777, 1))
		b.ReportMetric(float64(open.Microseconds())/1000, "open-ms")
		b.ReportMetric(float64(seek.Microseconds())/1000, "seek-ms")
	}
}

// firstByte GETs path (with a Range header when rng is set) and returns
// the time until the first byte of the body arrived, checking it.
func firstByte(b *testing.B, n *Node, path, rng string, want []byte) time.Duration {
	b.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+n.APIAddr()+path, nil)
	if err != nil {
		b.Fatal(err)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	got := make([]byte, 1)
	if _, err := io.ReadFull(resp.Body, got); err != nil {
		b.Fatalf("%s: %d, %v", path, resp.StatusCode, err)
	}
	d := time.Since(start)
	if got[0] != want[0] {
		b.Fatalf("%s (%s): first byte %#x, want %#x", path, rng, got[0], want[0])
	}
	return d
}
