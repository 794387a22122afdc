package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// DefaultAPIAddress is where the local API listens unless configured.
const DefaultAPIAddress = "127.0.0.1:5091"

// Config is the daemon's configuration, kept as JSON in the repo's config
// file. The file is written on first run with every default spelled out, so
// a user sees what can be changed.
type Config struct {
	// Identity is this node's peer ID (the private key is in identity.key).
	Identity IdentityConfig `json:"identity"`
	// API configures the local HTTP API.
	API APIConfig `json:"api"`
}

// IdentityConfig names the node.
type IdentityConfig struct {
	PeerID string `json:"peer_id"`
}

// APIConfig configures the local HTTP API.
type APIConfig struct {
	// Address is host:port; the host must be a loopback address because the
	// API can read and write the user's files.
	Address string `json:"address"`
}

// DefaultConfig is the configuration a new repo starts with.
func DefaultConfig() Config {
	return Config{
		API: APIConfig{Address: DefaultAPIAddress},
	}
}

// loadConfig reads the config file, filling fields it lacks with defaults.
func loadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("config %s is not valid JSON: %w", path, err)
	}
	if cfg.API.Address == "" {
		return cfg, errors.New("config " + path + ": api.address is empty")
	}
	return cfg, nil
}

// writeConfig writes cfg atomically (temp file, fsync, rename).
func writeConfig(path string, cfg Config) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), 0o600)
}

// writeFileAtomic replaces path with data so a crash leaves the old or the
// new file, never a torn one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
