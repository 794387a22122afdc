package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/web/api"
)

// Files and folders inside a repo.
const (
	configFile   = "config.json"
	identityFile = "identity.key"
	lockFile     = "repo.lock"
	blocksDir    = "blocks"
)

// ErrRepoLocked means another process owns the repo.
var ErrRepoLocked = errors.New("repo is locked")

// lockedError says who holds the repo in one sentence and matches
// ErrRepoLocked (whose own text would repeat it as a suffix).
type lockedError string

func (e lockedError) Error() string        { return string(e) }
func (e lockedError) Is(target error) bool { return target == ErrRepoLocked }

// repo is an open, locked repo folder.
type repo struct {
	dir   string
	lock  *os.File
	cfg   Config
	key   crypto.PrivKey
	id    peer.ID
	token string
	// created: this run made the repo (its config came from the profile).
	created bool
}

// openRepo locks dir (creating and initialising it on first use, with the
// config of profile) and loads its config, identity and API token.
func openRepo(dir string, profile func() Config) (r *repo, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create repo %s: %w", dir, err)
	}
	lk, err := lockRepo(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lk.Close()
		}
	}()
	r = &repo{dir: dir, lock: lk}
	if r.key, err = loadOrCreateKey(filepath.Join(dir, identityFile)); err != nil {
		return nil, err
	}
	if r.id, err = peer.IDFromPrivateKey(r.key); err != nil {
		return nil, fmt.Errorf("derive peer ID: %w", err)
	}
	cfgPath := filepath.Join(dir, configFile)
	if _, statErr := os.Stat(cfgPath); errors.Is(statErr, os.ErrNotExist) {
		cfg := profile()
		cfg.Identity.PeerID = r.id.String()
		if err := writeConfig(cfgPath, cfg); err != nil {
			return nil, err
		}
		r.created = true
	}
	if r.cfg, err = loadConfig(cfgPath); err != nil {
		return nil, err
	}
	if r.token, err = loadOrCreateToken(filepath.Join(dir, api.TokenFile)); err != nil {
		return nil, err
	}
	return r, nil
}

// lockRepo takes an exclusive lock on the repo's lock file (flock on Unix,
// LockFileEx on Windows: see lockFile*). The kernel drops it when the
// process dies, so a crash never leaves a stale lock.
func lockRepo(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open repo lock %s: %w", path, err)
	}
	if err := tryLock(f); err != nil {
		owner, _ := os.ReadFile(path)
		f.Close()
		msg := fmt.Sprintf("repo %s is in use by another kith daemon", dir)
		if pid := strings.TrimSpace(string(owner)); pid != "" {
			msg += " (pid " + pid + ")"
		}
		return nil, lockedError(msg + ": `kith --repo " + dir + " shutdown` stops it")
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

func loadOrCreateKey(path string) (crypto.PrivKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate identity key: %w", err)
		}
		raw, err := crypto.MarshalPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("encode identity key: %w", err)
		}
		if err := writeFileAtomic(path, raw, 0o600); err != nil {
			return nil, err
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read identity key %s: %w", path, err)
	}
	k, err := crypto.UnmarshalPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("identity key %s is damaged: %w", path, err)
	}
	return k, nil
}

func loadOrCreateToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read API token %s: %w", path, err)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(buf)
	if err := writeFileAtomic(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", err
	}
	return tok, nil
}

// close releases the repo lock.
func (r *repo) close() error {
	return r.lock.Close()
}
