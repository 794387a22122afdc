package node

import (
	"bytes"
	stdlog "log"
	"log/slog"
	"os"
	"strings"
	"testing"
)

// TestDaemonLogTakesLibraryLogs: what libraries print with the standard
// logger (mDNS's "no suitable IPv4 interface") goes to the log file, not
// to the terminal before the daemon's own lines; closing the log gives
// the standard logger back to stderr.
func TestDaemonLogTakesLibraryLogs(t *testing.T) {
	t.Setenv("GOLOG_LOG_LEVEL", "")
	dir := t.TempDir()
	var term bytes.Buffer
	dl, err := OpenDaemonLog(dir, slog.LevelInfo, &term)
	if err != nil {
		t.Fatal(err)
	}
	stdlog.Printf("[zeroconf] no suitable IPv4 interface")
	dl.Logger.Info("kith daemon ready")
	if err := dl.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(LogPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(file), "no suitable IPv4 interface") || !strings.Contains(string(file), "kith daemon ready") {
		t.Fatalf("log file:\n%s", file)
	}
	if strings.Contains(term.String(), "zeroconf") || !strings.Contains(term.String(), "kith daemon ready") {
		t.Fatalf("terminal:\n%s", term.String())
	}
	if stdlog.Writer() != os.Stderr {
		t.Fatal("the standard logger still writes to the closed file")
	}
}
