package node

import (
	"os"
	"path/filepath"
	"testing"
)

// TestConfigNetworks: which DHT a config joins. A new repo joins the
// public Amino DHT; the local profile dials no public peer; a config
// written before the public DHT became the default keeps meaning what it
// meant (the closed /kith network, with its own bootstrap list).
func TestConfigNetworks(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		prefix     string
		dual       bool
		publicBoot bool
	}{
		{"new default", "", "/ipfs", true, true},
		{"written before the public DHT", `{"api": {"address": "127.0.0.1:5091"}, "network": {"bootstrap": ["/ip4/192.0.2.1/tcp/4101/p2p/12D3KooWA1b2RkSKDfFyRRXXnGzRWDQFoPRVSGJstxA4q8DvwzqT"]}, "dht": {"mode": "auto"}}`, "/kith", false, false},
		{"old, hand-written, without bootstrap", `{"dht": {"mode": "server"}}`, "/kith", false, false},
		{"new, closed network", `{"dht": {"protocol_prefix": "/family"}, "network": {"bootstrap": []}}`, "/family", true, false},
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
		})
	}
	if l := LocalConfig(); len(l.Network.Bootstrap) != 0 || l.DHT.Dual || l.Network.RelayService {
		t.Errorf("the local profile dials or offers something public: %+v %+v", l.Network, l.DHT)
	}
}
