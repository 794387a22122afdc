package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

// BenchmarkFollowedFolder measures what a folder that follows a group's
// share (kith mirror add, get --follow) costs, between two nodes of a
// group on loopback, for 64 files of 4 MiB (256 MiB):
//   - adopt-s: following a copy already here (as it is: every file holds
//     the group's bytes), against get-s, a get of the same version into
//     an empty folder, in the same run: the copy is hashed, not fetched;
//   - change-s and change-MiB: a version that changed one file, after a
//     gc took every block the follower had: what is fetched is that file
//     (and the folder), not the folder again.
func BenchmarkFollowedFolder(b *testing.B) {
	ctx := context.Background()
	a := groupNode(b, b.TempDir(), 1<<30)
	f := groupNode(b, b.TempDir(), 1) // keeps no copy for the group
	formGroup(b, []*Node{a, f}, "family")
	src, mine := filepath.Join(b.TempDir(), "Films"), filepath.Join(b.TempDir(), "Films")
	for i := range 64 {
		body := randomData(4 << 20)
		for _, dir := range []string{src, mine} {
			p := filepath.Join(dir, fmt.Sprintf("%02d.mkv", i))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, body, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	share := func() cid.Cid { return shareInFamily(b, a, src) }
	followed := func(v cid.Cid) {
		waitFor(b, 5*time.Minute, "the folder to follow "+v.String(), func() bool {
			ms, err := f.GroupMirrors(ctx)
			return err == nil && len(ms) == 1 && ms[0].Cid == v.String()
		})
	}
	fetched := func() float64 { return metricValue(b, f, "kith_fetch_bytes_fetched_total") }

	v := share()
	waitFor(b, time.Minute, "the follower to see the share", func() bool {
		sts, err := f.GroupStatus(ctx, v)
		return err == nil && len(sts) == 1
	})
	start := time.Now()
	if _, err := f.GroupMirror(ctx, "family", "Films", mine, "", nil); err != nil {
		b.Fatal(err)
	}
	followed(v)
	adopt := time.Since(start)
	adoptMiB := fetched() / (1 << 20)
	start = time.Now()
	if _, err := f.Get(ctx, v.String(), filepath.Join(b.TempDir(), "got"), nil, nil); err != nil {
		b.Fatal(err)
	}
	get := time.Since(start)

	var change time.Duration
	var changeMiB float64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		if _, err := f.GC(ctx, nil); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("%02d.mkv", i%64)), randomData(4<<20), 0o644); err != nil {
			b.Fatal(err)
		}
		before := fetched()
		b.StartTimer()
		start := time.Now()
		followed(share())
		change += time.Since(start)
		changeMiB += (fetched() - before) / (1 << 20)
	}
	b.StopTimer()
	// 16 of the files (64 MiB) moved into a folder of their own at the
	// sharer, after a gc: the follower moves them too, fetching nothing.
	if _, err := f.GC(ctx, nil); err != nil {
		b.Fatal(err)
	}
	for i := range 16 {
		name := fmt.Sprintf("%02d.mkv", i)
		if err := os.MkdirAll(filepath.Join(src, "moved"), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(filepath.Join(src, name), filepath.Join(src, "moved", name)); err != nil {
			b.Fatal(err)
		}
	}
	before := fetched()
	start = time.Now()
	followed(share())
	b.ReportMetric(time.Since(start).Seconds(), "move-s")
	b.ReportMetric((fetched()-before)/(1<<20), "move-MiB")
	b.ReportMetric(adopt.Seconds(), "adopt-s")
	b.ReportMetric(adoptMiB, "adopt-MiB")
	b.ReportMetric(get.Seconds(), "get-s")
	b.ReportMetric(change.Seconds()/float64(b.N), "change-s")
	b.ReportMetric(changeMiB/float64(b.N), "change-MiB")
}
