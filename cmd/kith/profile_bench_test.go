package main_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// profileSeq numbers the profiles one benchmark process writes.
var profileSeq atomic.Int32

// cpuProfile starts a CPU profile of the daemon of repo for secs seconds
// when KITH_BENCH_CPUPROFILE names a directory (unset: it does nothing),
// and returns a function that waits for it and writes it there as
// NAME-N.pprof. It is how BENCHMARKS.md's profiles are taken: the daemon's
// /debug/pprof behind its API token, over the whole transfer.
func cpuProfile(tb testing.TB, repo, name string, secs int) (wait func()) {
	dir := os.Getenv("KITH_BENCH_CPUPROFILE")
	if dir == "" {
		return func() {}
	}
	addr, err1 := os.ReadFile(filepath.Join(repo, "api"))
	tok, err2 := os.ReadFile(filepath.Join(repo, "api.token"))
	if err1 != nil || err2 != nil {
		tb.Fatalf("profile %s: no API address or token in %s", name, repo)
	}
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", strings.TrimSpace(string(addr)), secs)
	out := filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", name, profileSeq.Add(1)))
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(out)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	return func() {
		if err := <-done; err != nil {
			tb.Errorf("profile %s: %v", name, err)
		}
	}
}
