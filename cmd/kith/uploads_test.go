package main_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestUploadsCommand: `kith uploads` on a daemon says no one downloads
// from it; once another daemon got a file from it, it lists that peer
// with the file's name, the protocol and the bytes sent, and --json says
// the same to a program.
func TestUploadsCommand(t *testing.T) {
	seed, repo := t.TempDir(), t.TempDir()
	startDaemon(t, seed)
	startDaemon(t, repo)
	if out := mustKith(t, seed, "uploads"); out != "no peer is downloading from this node" {
		t.Fatalf("uploads before any:\n%s", out)
	}
	src := filepath.Join(t.TempDir(), "holiday.bin")
	writeRandomFile(t, src, 3<<20)
	root := mustKith(t, seed, "add", "-q", src)
	mustKith(t, repo, "connect", p2pAddrOf(t, seed))
	mustKith(t, repo, "get", root, "-o", filepath.Join(t.TempDir(), "got.bin"))

	var id struct {
		PeerID string `json:"peer_id"`
	}
	if err := json.Unmarshal([]byte(mustKith(t, repo, "--json", "id")), &id); err != nil {
		t.Fatal(err)
	}
	table := mustKith(t, seed, "uploads")
	lines := strings.Split(table, "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "PEER") || !strings.HasPrefix(lines[1], id.PeerID) ||
		!strings.Contains(lines[1], "holiday.bin") || !strings.Contains(lines[1], " kith ") || !strings.Contains(lines[1], "3.0 MiB") {
		t.Fatalf("uploads after the get:\n%s", table)
	}
	var ups []struct {
		Peer      string   `json:"peer"`
		Cid       string   `json:"cid"`
		Name      string   `json:"name"`
		Protocols []string `json:"protocols"`
		Bytes     int64    `json:"bytes"`
	}
	if err := json.Unmarshal([]byte(mustKith(t, seed, "--json", "uploads")), &ups); err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || ups[0].Peer != id.PeerID || ups[0].Cid != root || ups[0].Name != "holiday.bin" || ups[0].Bytes < 3<<20 {
		t.Fatalf("uploads --json: %+v", ups)
	}
}
