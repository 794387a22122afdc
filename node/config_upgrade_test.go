package node

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestConfigNetworks: which DHT a config joins. A new repo joins the
// public Amino DHT; the local profile dials no public peer; a config
// written before the public DHT became the default keeps meaning what it
// meant (the closed /kith network, with its own bootstrap list). A config
// written before dht.delegated_routers asks cid.contact only if it is on
// the public network: the local profile's and a closed network's ask no
// router.
func TestConfigNetworks(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		prefix     string
		dual       bool
		publicBoot bool
		routers    []string
		names      bool // names.delegated_routers is the default list
	}{
		{"new default", "", "/ipfs", true, true, []string{"https://cid.contact"}, true},
		{"written before the public DHT", `{"api": {"address": "127.0.0.1:5091"}, "network": {"bootstrap": ["/ip4/192.0.2.1/tcp/4101/p2p/12D3KooWA1b2RkSKDfFyRRXXnGzRWDQFoPRVSGJstxA4q8DvwzqT"]}, "dht": {"mode": "auto"}}`, "/kith", false, false, nil, false},
		{"old, hand-written, without bootstrap", `{"dht": {"mode": "server"}}`, "/kith", false, false, nil, false},
		{"new, closed network", `{"dht": {"protocol_prefix": "/family"}, "network": {"bootstrap": []}}`, "/family", true, false, nil, false},
		{"public, written before delegated routers", `{"dht": {"protocol_prefix": "/ipfs", "dual": true, "mode": "auto"}}`, "/ipfs", true, true, []string{"https://cid.contact"}, true},
		{"local profile's, written before delegated routers", localWithoutRouters(t), "/ipfs", false, false, nil, false},
		{"closed network, a router named", `{"dht": {"protocol_prefix": "/family", "delegated_routers": ["http://127.0.0.1:8080"]}, "network": {"bootstrap": []}}`, "/family", true, false, []string{"http://127.0.0.1:8080"}, false},
		{"public, no router", `{"dht": {"protocol_prefix": "/ipfs", "delegated_routers": []}}`, "/ipfs", true, true, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg Config
			if tt.file == "" {
				cfg = DefaultConfig()
			} else {
				path := filepath.Join(t.TempDir(), "config.json")
				if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
				var err error
				if cfg, err = loadConfig(path); err != nil {
					t.Fatal(err)
				}
			}
			if cfg.DHT.ProtocolPrefix != tt.prefix || cfg.DHT.Dual != tt.dual {
				t.Errorf("prefix %q dual %v, want %q %v", cfg.DHT.ProtocolPrefix, cfg.DHT.Dual, tt.prefix, tt.dual)
			}
			public := false
			for _, b := range cfg.Network.Bootstrap {
				if b == DefaultBootstrap()[0] {
					public = true
				}
			}
			if public != tt.publicBoot {
				t.Errorf("public bootstrap peers %v, want %v (%v)", public, tt.publicBoot, cfg.Network.Bootstrap)
			}
			if !slices.Equal(cfg.DHT.DelegatedRouters, tt.routers) {
				t.Errorf("delegated routers %q, want %q", cfg.DHT.DelegatedRouters, tt.routers)
			}
			// Names follow the same rule, with their own list.
			if got := slices.Equal(cfg.Names.DelegatedRouters, DefaultNameRouters()); got != tt.names {
				t.Errorf("name routers %q, want the default: %v", cfg.Names.DelegatedRouters, tt.names)
			}
		})
	}
	if l := LocalConfig(); len(l.Network.Bootstrap) != 0 || l.DHT.Dual || l.Network.RelayService || len(l.DHT.DelegatedRouters) != 0 || len(l.Names.DelegatedRouters) != 0 {
		t.Errorf("the local profile dials or offers something public: %+v %+v", l.Network, l.DHT)
	}
}

// localWithoutRouters is the config file the local profile wrote before
// dht.delegated_routers.
func localWithoutRouters(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(LocalConfig())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m["dht"], "delegated_routers")
	delete(m["names"], "delegated_routers")
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	return string(b)
}
