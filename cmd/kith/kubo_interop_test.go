//go:build linux

package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
)

// These tests run real Kubo daemons (kubo_harness_test.go) beside real kith
// daemons on loopback: content moves both ways over Bitswap, byte for byte,
// under the same CIDs.

// kuboTimeout bounds every Kubo command that goes to the network, so that
// a transfer that never comes fails the test instead of hanging it.
const kuboTimeout = "--timeout=3m"

// TestKuboFetchesFromKith adds content in kith and fetches it with Kubo
// (`ipfs pin add`, then `ipfs cat` or `ipfs get`): Kubo computes the same
// CIDs for the same bytes, and reads back the same bytes.
func TestKuboFetchesFromKith(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 64 MiB and thousands of files through Kubo")
	}
	k := startKubo(t)
	repo := t.TempDir()
	startDaemon(t, repo)
	connectKith(t, repo, k)

	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	writeRandomFile(t, big, 64<<20)
	// 2,000 small files stay a basic folder (~90 KB of links); 4,500
	// names of 200 bytes make ~1.1 MiB of links, past the 1 MiB at which
	// both kith and Kubo (the harness's IPIP-499 profile) shard a folder.
	// A third of its files are empty: no Kubo can send an empty block to
	// another (see protocol/bitswap isEmptyBlock), kith's server can.
	folder := writeFolder(t, filepath.Join(dir, "folder"), 2000, 8, 1)
	hamt := writeFolder(t, filepath.Join(dir, "hamt"), 4500, 200, 0)
	links := writeLinksFolder(t, filepath.Join(dir, "links"))

	tests := []struct {
		name, path string
		folder     bool
		sharded    bool
	}{
		{"64MiB file", big, false, false},
		{"2000 files", folder, true, false},
		{"HAMT folder", hamt, true, true},
		{"hidden files and symbolic links", links, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addArgs := []string{"add", "-q"}
			kuboArgs := []string{"add", "-Q", "--only-hash"}
			if tt.folder {
				// A kith folder is whole: Kubo needs -H for hidden files.
				addArgs = append(addArgs, "-r")
				kuboArgs = append(kuboArgs, "-r", "-H")
			}
			root := mustKith(t, repo, append(addArgs, tt.path)...)
			if kuboRoot := mustKubo(t, k, append(kuboArgs, tt.path)...); kuboRoot != root {
				t.Fatalf("CIDs differ for the same bytes: kith %s, Kubo %s", root, kuboRoot)
			}
			mustKubo(t, k, kuboTimeout, "pin", "add", root)
			if got := isHAMT(t, k, root); got != tt.sharded {
				t.Fatalf("root %s is a HAMT shard: %v, want %v", root, got, tt.sharded)
			}
			out := filepath.Join(t.TempDir(), "out")
			if tt.folder {
				mustKubo(t, k, kuboTimeout, "get", "-o", out, root)
			} else {
				f, err := os.Create(out)
				if err != nil {
					t.Fatal(err)
				}
				cat := k.command(kuboTimeout, "cat", root)
				var errb bytes.Buffer
				cat.Stdout, cat.Stderr = f, &errb
				err = cat.Run()
				f.Close()
				if err != nil {
					t.Fatalf("ipfs cat: %v: %s", err, errb.String())
				}
			}
			sameContent(t, tt.path, out)
		})
	}
}

// TestKithGetsFromKubo fetches with `kith get` what only a Kubo daemon
// holds: its progress knows the total from the start, an interrupted get
// resumes (the second run fetches only what the first did not), and the
// bytes written are the bytes Kubo added; a folder with empty files too.
func TestKithGetsFromKubo(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 96 MiB from Kubo")
	}
	const size = 96 << 20
	k := startKubo(t)
	src := filepath.Join(t.TempDir(), "from-kubo.bin")
	writeRandomFile(t, src, size)
	root := k.must("add", "-Q", src)
	repo := t.TempDir()
	startDaemon(t, repo)
	connectKith(t, repo, k)

	out := filepath.Join(t.TempDir(), "out.bin")
	get, events := startKithJSON(t, repo, "get", root, "-o", out)
	total, reached := watchFetch(events, size/4)
	if !reached {
		get.Wait()
		t.Fatal("the get ended before a quarter of the file had come; make the file bigger")
	}
	// Interrupt it, as Ctrl-C would: the daemon stops fetching and keeps
	// what came.
	get.Process.Kill()
	get.Wait()
	if total < size {
		t.Fatalf("progress total %d before the interrupt, want the file's size (%d) or more", total, size)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the interrupted get left a file behind")
	}

	// The second get fetches whatever the first did not store.
	res := getResult(t, mustKith(t, repo, "--json", "get", root, "-o", out))
	if res.Fetched.Bytes == 0 || res.Fetched.Bytes > size*3/4+(4<<20) {
		t.Fatalf("the resumed get fetched %d bytes of %d, %d of which had come before; want only the missing part",
			res.Fetched.Bytes, size, size/4)
	}
	if res.Fetched.Protocols["bitswap"].Blocks == 0 || res.Fetched.Protocols["kith"].Blocks != 0 {
		t.Fatalf("carried by %+v, want Bitswap only", res.Fetched.Protocols)
	}
	if res.Size != size {
		t.Fatalf("get wrote %d bytes, want %d", res.Size, size)
	}
	sameContent(t, src, out)

	// A folder with an empty file, whose block Kubo never sends.
	folder := filepath.Join(t.TempDir(), "folder")
	writeFolder(t, folder, 6, 12, 0)
	root = k.must("add", "-Q", "-r", folder)
	out = filepath.Join(t.TempDir(), "folder-out")
	mustKith(t, repo, "get", root, "-o", out)
	sameContent(t, folder, out)

	// Hidden files and symbolic links, which kith writes back as links.
	folder = writeLinksFolder(t, filepath.Join(t.TempDir(), "links"))
	root = k.must("add", "-Q", "-r", "-H", folder)
	out = filepath.Join(t.TempDir(), "links-out")
	mustKith(t, repo, "get", root, "-o", out)
	sameContent(t, folder, out)
}

// TestKuboMixedSwarm fetches a file that two kith daemons and a Kubo daemon
// all hold: kith peers and Kubo each carry some of it, and the bytes are
// right. Then again, with the Kubo seeder killed (SIGKILL) half-way: the
// fetch moves its wants to the kith seeders and completes promptly.
func TestKuboMixedSwarm(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 2 x 64 MiB")
	}
	const size = 64 << 20
	src := filepath.Join(t.TempDir(), "shared.bin")
	writeRandomFile(t, src, size)
	k := startKubo(t)
	root := k.must("add", "-Q", src)
	var seeds []string
	for range 2 {
		seed := t.TempDir()
		startDaemon(t, seed)
		if got := mustKith(t, seed, "add", "-q", src); got != root {
			t.Fatalf("kith added %s, Kubo %s", got, root)
		}
		seeds = append(seeds, p2pAddrOf(t, seed))
	}
	fresh := func(t *testing.T) string {
		repo := t.TempDir()
		startDaemon(t, repo)
		for _, a := range seeds {
			mustKith(t, repo, "connect", a)
		}
		connectKith(t, repo, k)
		return repo
	}

	t.Run("all seeders", func(t *testing.T) {
		repo := fresh(t)
		out := filepath.Join(t.TempDir(), "out.bin")
		res := getResult(t, mustKith(t, repo, "--json", "get", root, "-o", out))
		t.Logf("carried: %+v", res.Fetched.Protocols)
		for _, p := range []string{"kith", "bitswap"} {
			if res.Fetched.Protocols[p].Blocks == 0 {
				t.Errorf("%s carried no block: %+v", p, res.Fetched.Protocols)
			}
		}
		if got := res.Fetched.Protocols["kith"].Peers; got != 2 {
			t.Errorf("%d kith peers carried blocks, want 2", got)
		}
		sameContent(t, src, out)
	})

	t.Run("Kubo killed half-way", func(t *testing.T) {
		repo := fresh(t)
		out := filepath.Join(t.TempDir(), "out.bin")
		get, events := startKithJSON(t, repo, "get", root, "-o", out)
		if _, reached := watchFetch(events, size/2); !reached {
			t.Fatal("the get ended before half the file had come")
		}
		k.kill()
		killed := time.Now()
		var rest bytes.Buffer
		for events.Scan() {
			rest.Write(events.Bytes())
			rest.WriteByte('\n')
		}
		if err := get.Wait(); err != nil {
			t.Fatalf("get after Kubo was killed: %v\n%s", err, rest.String())
		}
		// Closed connections fail a Bitswap wantlist at once; the stall
		// watchdog (5 s) is the fallback. Either way, well under 10 s.
		if d := time.Since(killed); d > 10*time.Second {
			t.Fatalf("the get took %s after Kubo was killed", d)
		}
		res := getResult(t, lastLine(rest.String()))
		t.Logf("done %s after the kill; carried: %+v", time.Since(killed).Round(time.Millisecond), res.Fetched.Protocols)
		if res.Fetched.Protocols["kith"].Blocks == 0 {
			t.Fatalf("kith peers carried nothing: %+v", res.Fetched.Protocols)
		}
		sameContent(t, src, out)
	})
}

// TestKuboGatewayRange: kith's gateway serves a Range of a file that only
// a Kubo daemon holds, fetched over Bitswap as the request reads it.
func TestKuboGatewayRange(t *testing.T) {
	k := startKubo(t)
	data := randomBytes(24<<20 + 99)
	src := filepath.Join(t.TempDir(), "clip.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	root := k.must("add", "-Q", src)
	repo := t.TempDir()
	startDaemon(t, repo)
	connectKith(t, repo, k)

	from := int64(17<<20 + 4321)
	req, err := http.NewRequest(http.MethodGet, apiOf(t, repo)+"/ipfs/"+root+"?filename=clip.bin", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, from+3<<20-1))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	t.Logf("3 MiB from the middle of a file only Kubo holds in %s", time.Since(start).Round(time.Millisecond))
	if err != nil || resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("range request: %d, %v: %.300s", resp.StatusCode, err, body)
	}
	if !bytes.Equal(body, data[from:from+3<<20]) {
		t.Fatalf("the range returned %d bytes that differ from the file's", len(body))
	}
	if pins := mustKith(t, repo, "pin", "ls"); strings.Contains(pins, root) {
		t.Fatalf("streaming pinned the file:\n%s", pins)
	}
}

// apiOf returns the base URL of the API (and gateway) of the daemon of
// repo.
func apiOf(t *testing.T, repo string) string {
	t.Helper()
	var id struct{ API string }
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "id")), &id); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id.API, "http") {
		id.API = "http://" + id.API
	}
	return id.API
}

// getResultJSON is what `kith --json get` prints last.
type getResultJSON struct {
	Size    int64
	Fetched struct {
		Bytes     int64
		Protocols map[string]struct {
			Blocks int
			Bytes  int64
			Peers  int
		}
	}
}

// getResult parses the result of `kith --json get`: the last line, or the
// result of a done event.
func getResult(t *testing.T, out string) getResultJSON {
	t.Helper()
	line := lastLine(out)
	var ev struct {
		Type   string
		Result json.RawMessage
	}
	if json.Unmarshal([]byte(line), &ev) == nil && ev.Type == "done" {
		line = string(ev.Result)
	}
	var res getResultJSON
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("get result %q: %v", line, err)
	}
	return res
}

// watchFetch reads a get's events until its fetch has brought at least
// bytes, and returns the largest total a fetch progress event carried
// until then; reached is false if the events ended first.
func watchFetch(sc *bufio.Scanner, bytes int64) (total int64, reached bool) {
	for sc.Scan() {
		var ev struct {
			Type, Phase  string
			Bytes, Total int64
		}
		json.Unmarshal(sc.Bytes(), &ev)
		if ev.Type != "progress" || ev.Phase != "fetch" {
			continue
		}
		total = max(total, ev.Total)
		if ev.Bytes >= bytes {
			return total, true
		}
	}
	return total, false
}

// writeFolder writes n files of fileSize random bytes whose names are
// nameLen bytes long, and returns the folder.
func writeFolder(t *testing.T, dir string, n, nameLen, fileSize int) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("%06d", i)
		name += strings.Repeat("x", max(0, nameLen-len(name)))
		data := randomBytes(fileSize + i%3)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writeLinksFolder writes a folder holding a hidden file and symbolic
// links of each kind (relative, absolute, dangling, in a sub-folder).
func writeLinksFolder(t *testing.T, dir string) string {
	t.Helper()
	for _, p := range []string{dir, filepath.Join(dir, "sub")} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writes := map[string]string{".hidden": "secret\n", "a.txt": "alpha\n", "sub/b.txt": "bravo\n"}
	for name, body := range writes {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{"link": "a.txt", "abs": "/etc/hostname", "dangling": "../nowhere", "sub/up": "../a.txt"}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// sameContent fails the test unless got holds what want holds: the same
// bytes, or the same tree of files (symbolic links compared as links).
func sameContent(t *testing.T, want, got string) {
	t.Helper()
	if out, err := exec.Command("diff", "-r", "-q", "--no-dereference", want, got).CombinedOutput(); err != nil {
		t.Fatalf("%s differs from %s: %v\n%.2000s", got, want, err, out)
	}
}

// mustKubo is k.must failing t, a subtest of the test that started k.
func mustKubo(t *testing.T, k *kubo, args ...string) string {
	t.Helper()
	out, err := k.run(args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// isHAMT reports whether Kubo's copy of block c is a UnixFS HAMT shard.
func isHAMT(t *testing.T, k *kubo, c string) bool {
	t.Helper()
	raw, err := k.command("block", "get", c).Output()
	if err != nil {
		t.Fatalf("ipfs block get %s: %v", c, err)
	}
	pn, err := merkledag.DecodeProtobuf(raw)
	if err != nil {
		return false // a raw leaf
	}
	fs, err := unixfs.FSNodeFromBytes(pn.Data())
	if err != nil {
		t.Fatalf("block %s: %v", c, err)
	}
	return fs.Type() == unixfs.THAMTShard
}
