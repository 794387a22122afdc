package mirror

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/blockstore/dag"
)

// BenchmarkApplyOneChange: a folder of 10,000 files in 100 folders that
// follows a group's share, brought to a version that changed one file
// (each op alternates between two such versions): what a following
// device spends on a small change to a large folder.
func BenchmarkApplyOneChange(b *testing.B) {
	bs := blockstore.NewMemStore()
	build := func(which string) tree {
		tr := tree{}
		for d := range 100 {
			sub := tree{}
			for f := range 100 {
				sub[fmt.Sprintf("f%d.txt", f)] = fmt.Sprintf("%01000d", d*100+f)
			}
			tr[fmt.Sprintf("d%d", d)] = sub
		}
		tr["d5"].(tree)["f5.txt"] = which
		return tr
	}
	v1 := version(b, bs, build("one"))
	v2 := version(b, bs, build("two"))
	dir := b.TempDir()
	man := Manifest{}
	if _, err := Apply(context.Background(), Version{Root: v1, Store: bs}, dir, man, nil); err != nil {
		b.Fatal(err)
	}
	cur := v1 // what the folder holds: each op brings it to the other
	toOther := func(b *testing.B) {
		v := v2
		if cur == v2 {
			v = v1
		}
		cur = v
		res, err := Apply(context.Background(), Version{Root: v, Store: bs}, dir, man, nil)
		if err != nil || res.Written != 1 {
			b.Fatalf("Apply: %+v, %v; want 1 written", res, err)
		}
	}
	b.Run("apply", func(b *testing.B) {
		for b.Loop() {
			toOther(b)
		}
	})
	// With the sharer's modes and times (a meta of every entry, an hour
	// back): the one file written gets its time, the rest are as they
	// are. And what the sharer spends to read and encode that meta.
	meta, err := ReadMeta(context.Background(), bs, cur, dir)
	if err != nil || len(meta) != 10_100 {
		b.Fatalf("ReadMeta: %d entries, %v", len(meta), err)
	}
	for k, em := range meta {
		em.Mtime -= int64(time.Hour)
		meta[k] = em
	}
	b.Run("apply+meta", func(b *testing.B) {
		for b.Loop() {
			toOther(b)
			if _, err := applyMeta(dir, man, meta); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-meta", func(b *testing.B) {
		for b.Loop() {
			m, err := ReadMeta(context.Background(), bs, cur, dir)
			if err != nil || len(m) != 10_100 {
				b.Fatalf("ReadMeta: %d entries, %v", len(m), err)
			}
			b.SetBytes(int64(len(EncodeMeta(m, Versions{}))))
		}
	})
	// The floor: looking at every entry of the folder once, as any tool
	// that tells what changed must (rsync, Syncthing's scan).
	b.Run("lstat-walk", func(b *testing.B) {
		for b.Loop() {
			n := 0
			err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if _, err := os.Lstat(p); err != nil {
					return err
				}
				n++
				return nil
			})
			if err != nil || n != 10_101 {
				b.Fatalf("walked %d entries: %v", n, err)
			}
		}
	})
}

// BenchmarkApplyFirst: a new folder that follows a share gets it whole,
// against the same version written out by dag.WriteTo (what kith get
// does) in the same run: 10,000 files in 100 folders, and 5,000 files in
// one folder (where a look for leftovers at every write would make the
// cost grow with the square of the folder's size).
func BenchmarkApplyFirst(b *testing.B) {
	nested, flat := tree{}, tree{}
	for d := range 100 {
		sub := tree{}
		for f := range 100 {
			sub[fmt.Sprintf("f%d.txt", f)] = fmt.Sprintf("%01000d", d*100+f)
		}
		nested[fmt.Sprintf("d%d", d)] = sub
	}
	for f := range 5000 {
		flat[fmt.Sprintf("f%d.txt", f)] = fmt.Sprintf("%01000d", f)
	}
	for _, shape := range []struct {
		name  string
		tr    tree
		files int
	}{{"100x100", nested, 10_000}, {"flat-5000", flat, 5000}} {
		bs := blockstore.NewMemStore()
		v := version(b, bs, shape.tr)
		// Each op writes it both ways, one after the other, so that both
		// meet the same disk (whose write-back varies from minute to
		// minute): s/apply against s/writeto.
		b.Run(shape.name, func(b *testing.B) {
			var apply, write time.Duration
			for b.Loop() {
				dir := filepath.Join(b.TempDir(), "v")
				if err := os.Mkdir(dir, 0o755); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if res, err := Apply(context.Background(), Version{Root: v, Store: bs}, dir, Manifest{}, nil); err != nil || res.Written != shape.files {
					b.Fatalf("Apply: %+v, %v", res, err)
				}
				apply += time.Since(start)
				start = time.Now()
				if err := dag.WriteTo(context.Background(), bs, v, filepath.Join(b.TempDir(), "v"), nil); err != nil {
					b.Fatal(err)
				}
				write += time.Since(start)
			}
			b.ReportMetric(apply.Seconds()/float64(b.N), "s/apply")
			b.ReportMetric(write.Seconds()/float64(b.N), "s/writeto")
			b.ReportMetric(apply.Seconds()/write.Seconds(), "apply/writeto")
		})
	}
}
