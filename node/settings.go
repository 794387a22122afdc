package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/kith-p2p/kith/web/api"
)

// Settings answers the API's GET /config (the web UI's Settings page):
// each setting keys names (every one when keys is empty), with its value
// in config.json, its default, whether a change applies while the daemon
// runs, and whether the daemon runs with another value until it restarts.
func (n *Node) Settings(ctx context.Context, keys []string) ([]api.Setting, error) {
	file, err := ReadConfig(n.repo.dir) // a config that does not validate: api.ErrInvalid
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		keys = ConfigKeys()
	}
	def := DefaultConfig()
	out := make([]api.Setting, 0, len(keys))
	for _, k := range keys {
		if _, err := findField(k); err != nil {
			return nil, err
		}
		s, err := n.setting(k, file, def)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// setting is key's Setting, from file (config.json) and def.
func (n *Node) setting(key string, file, def Config) (api.Setting, error) {
	v, err := file.Lookup(key)
	if err != nil {
		return api.Setting{}, err
	}
	d, err := def.Lookup(key)
	if err != nil {
		return api.Setting{}, err
	}
	_, live := liveSettings[key]
	s := api.Setting{Key: key, Value: v.Text(), Default: d.Text(), Live: live, ReadOnly: ConfigReadOnly(key)}
	if !live {
		// The daemon runs with what the file said when it started (less
		// what this run overrides: --profile local on a repo made for the
		// internet changes no file, and so nothing is pending).
		if r, err := n.repo.cfg.Lookup(key); err == nil {
			s.Pending = r.Text() != s.Value
		}
	}
	return s, nil
}

// SetSetting answers the API's POST /config/set: it sets key to value in
// config.json, as `kith config set` does (checked against the whole
// config first; the file replaced atomically, other keys left as they
// are), and has the daemon take it at once when it can (ApplyConfig);
// any other setting applies at the next start (Pending).
func (n *Node) SetSetting(ctx context.Context, key, value string) (api.Setting, error) {
	if _, err := SetConfig(n.repo.dir, key, value); err != nil {
		if !errors.Is(err, api.ErrInvalid) {
			err = fmt.Errorf("write %s: %w", ConfigPath(n.repo.dir), err)
		}
		return api.Setting{}, err
	}
	if _, err := n.ApplyConfig(ctx, key); err != nil {
		return api.Setting{}, err
	}
	file, err := ReadConfig(n.repo.dir)
	if err != nil {
		return api.Setting{}, err
	}
	n.log.Info("setting changed through the API", "key", key)
	return n.setting(key, file, DefaultConfig())
}
