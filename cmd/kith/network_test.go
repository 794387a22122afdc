package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// p2pAddrOf returns a multiaddr other daemons can dial the daemon of repo at.
func p2pAddrOf(t *testing.T, repo string) string {
	t.Helper()
	var id struct {
		PeerID    string `json:"peer_id"`
		Addresses []string
	}
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "id")), &id); err != nil {
		t.Fatal(err)
	}
	for _, a := range id.Addresses {
		if strings.Contains(a, "/tcp/") {
			return a + "/p2p/" + id.PeerID
		}
	}
	t.Fatalf("no TCP address in %+v", id)
	return ""
}

// TestThreeDaemonsShare adds a folder on one daemon and gets it on the other
// two: the second is connected to the first, the third only to the second
// (it learns the first through the DHT or fetches from the second).
func TestThreeDaemonsShare(t *testing.T) {
	r1, r2, r3 := t.TempDir(), t.TempDir(), t.TempDir()
	startDaemon(t, r1)
	startDaemon(t, r2)
	startDaemon(t, r3)
	mustKith(t, r2, "connect", p2pAddrOf(t, r1))
	mustKith(t, r3, "connect", p2pAddrOf(t, r2))

	src := filepath.Join(t.TempDir(), "share")
	os.MkdirAll(filepath.Join(src, "docs"), 0o755)
	os.WriteFile(filepath.Join(src, "big.bin"), randomBytes(20<<20+5), 0o644)
	os.WriteFile(filepath.Join(src, "docs", "note.txt"), []byte("from daemon one"), 0o644)
	root := mustKith(t, r1, "add", "-r", "-q", src)

	for _, repo := range []string{r2, r3} {
		out := filepath.Join(t.TempDir(), "got")
		msg := mustKith(t, repo, "get", root, "-o", out)
		if !strings.Contains(msg, "fetched") {
			t.Fatalf("get on %s did not fetch: %s", repo, msg)
		}
		for _, name := range []string{"big.bin", "docs/note.txt"} {
			want, _ := os.ReadFile(filepath.Join(src, name))
			got, err := os.ReadFile(filepath.Join(out, name))
			if err != nil || string(got) != string(want) {
				t.Fatalf("%s differs after get on %s: %v", name, repo, err)
			}
		}
	}
	if peers := mustKith(t, r3, "peers"); !strings.Contains(peers, "direct/tcp") {
		t.Fatalf("peers:\n%s", peers)
	}
	if id := mustKith(t, r1, "id"); !strings.Contains(id, "/p2p/") {
		t.Fatalf("id:\n%s", id)
	}
}
