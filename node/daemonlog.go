package node

import (
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	golog "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/gologshim"

	"github.com/kith-p2p/kith/node/logfile"
)

// LogPath is where a repo's daemon keeps its log (and LogPath + ".1", the
// one before it): `kith log` reads it, `kith doctor` names it.
func LogPath(repoDir string) string { return filepath.Join(repoDir, "logs", "daemon.log") }

// DaemonLog is where a daemon's log goes: stderr, as ever, and the repo's
// log file, so that what happened can be read after the terminal is gone.
type DaemonLog struct {
	// Logger writes kith's own log to stderr and to the file, at the
	// level the daemon was started with.
	Logger *slog.Logger
	file   *slog.Logger // the file only
	w      *logfile.Writer
	pipe   *golog.PipeReader
	copied chan struct{}
	once   sync.Once
}

// OpenDaemonLog opens the log file of the repo at repoDir (creating its
// folder) and returns the loggers that write to it.
//
// It also routes libp2p's logs (go-log, and go-libp2p's gologshim through
// go-log), which are process-wide, so it is for the daemon's process and
// is called once, before the node is built. Their levels are
// GOLOG_LOG_LEVEL's (error when unset). They go to the file, and to
// stderr only when GOLOG_LOG_LEVEL (or another GOLOG_ output setting) is
// set: by default a failure the daemon explains in one sentence (a port
// in use) is not preceded on the terminal by libp2p's view of it.
func OpenDaemonLog(repoDir string, level slog.Level, stderr io.Writer) (*DaemonLog, error) {
	dir, err := resolveRepoDir(repoDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create repo %s: %w", dir, err)
	}
	w, err := logfile.Open(LogPath(dir), logfile.DefaultMaxSize)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	fileHandler := slog.NewTextHandler(w, opts)
	l := &DaemonLog{
		Logger: slog.New(slog.NewMultiHandler(slog.NewTextHandler(stderr, opts), fileHandler)),
		file:   slog.New(fileHandler),
		w:      w,
		copied: make(chan struct{}),
	}
	if !libp2pLogsToTerminal() {
		cfg := golog.GetConfig()
		cfg.Stderr, cfg.Stdout = false, false
		golog.SetupLogging(cfg)
		// Libraries that log with the standard logger (mDNS's zeroconf:
		// "no suitable IPv4 interface") go to the file too.
		stdlog.SetOutput(w)
	}
	gologshim.SetDefaultHandler(golog.SlogHandler())
	l.pipe = golog.NewPipeReader(golog.PipeFormat(golog.PlaintextOutput))
	go func() {
		defer close(l.copied)
		_, _ = io.Copy(w, l.pipe)
	}()
	return l, nil
}

// libp2pLogsToTerminal: the user asked for libp2p's logs, by level or by
// output, with go-log's environment variables.
func libp2pLogsToTerminal() bool {
	for _, v := range []string{"GOLOG_LOG_LEVEL", "IPFS_LOGGING", "GOLOG_OUTPUT", "GOLOG_FILE", "GOLOG_URL"} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}

// Path is the log file.
func (l *DaemonLog) Path() string { return l.w.Path() }

// Failed records in the file why the daemon did not start or stopped
// (what is "did not start" or "stopped"), which stderr shows in one
// sentence of its own.
func (l *DaemonLog) Failed(what, msg string) {
	l.file.Error("daemon " + what + ": " + msg)
}

// Close stops copying libp2p's logs and closes the file.
func (l *DaemonLog) Close() error {
	var err error
	l.once.Do(func() {
		stdlog.SetOutput(os.Stderr)
		_ = l.pipe.Close()
		<-l.copied
		err = l.w.Close()
	})
	return err
}

// resolveRepoDir is the repo folder a daemon uses: dir made absolute, or
// DefaultRepoPath when empty.
func resolveRepoDir(dir string) (string, error) {
	if dir == "" {
		var err error
		if dir, err = DefaultRepoPath(); err != nil {
			return "", err
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("repo path: %w", err)
	}
	return abs, nil
}
