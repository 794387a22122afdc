package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

// TestConfigSet: each kind of value parses from what a user types, and a
// value of the wrong form, or one the daemon cannot run with, is refused
// with a sentence naming the key.
func TestConfigSet(t *testing.T) {
	tests := []struct {
		key, value string
		want       string // the value as `kith config get` prints it
		err        string // else, part of the error
	}{
		{key: "api.address", value: "127.0.0.1:5092", want: "127.0.0.1:5092"},
		{key: "api.address", value: "[::1]:5092", want: "[::1]:5092"},
		{key: "api.address", value: "localhost:0", want: "localhost:0"},
		{key: "api.address", value: "0.0.0.0:5091", err: "loopback address"},
		{key: "api.address", value: "192.168.1.2:5091", err: "loopback address"},
		{key: "api.address", value: "127.0.0.1", err: "is not host:port"},
		{key: "api.address", value: "127.0.0.1:99999", err: "from 0 to 65535"},
		{key: "api.address", value: "", err: "api.address is empty"},
		{key: "api.metrics_without_token", value: "yes", want: "true"},
		{key: "api.metrics_without_token", value: "FALSE", want: "false"},
		{key: "api.metrics_without_token", value: "maybe", err: `api.metrics_without_token takes true or false, not "maybe"`},
		{key: "network.listen_addrs", value: "/ip4/0.0.0.0/tcp/4102, /ip4/0.0.0.0/udp/4102/quic-v1",
			want: "[\n  \"/ip4/0.0.0.0/tcp/4102\",\n  \"/ip4/0.0.0.0/udp/4102/quic-v1\"\n]"},
		{key: "network.listen_addrs", value: `["/ip6/::/tcp/4102"]`, want: "[\n  \"/ip6/::/tcp/4102\"\n]"},
		{key: "network.listen_addrs", value: "", want: "[]"},
		{key: "network.listen_addrs", value: "0.0.0.0:4101", err: `"0.0.0.0:4101" is not a multiaddr`},
		{key: "network.listen_addrs", value: "/ip4/0.0.0.0/udp/4101", err: "is neither TCP nor QUIC"},
		{key: "network.listen_addrs", value: `["/ip4/0.0.0.0/tcp/1"`, err: "takes a list"},
		{key: "network.announce_addrs", value: "/ip4/81.2.69.160/tcp/40000,/ip4/0.0.0.0/udp/40000/quic-v1",
			want: "[\n  \"/ip4/81.2.69.160/tcp/40000\",\n  \"/ip4/0.0.0.0/udp/40000/quic-v1\"\n]"},
		{key: "network.announce_addrs", value: "/dns4/home.example.org/tcp/4101", want: "[\n  \"/dns4/home.example.org/tcp/4101\"\n]"},
		{key: "network.announce_addrs", value: "/ip6/2a01:4f8:5::7/udp/4101/quic-v1", want: "[\n  \"/ip6/2a01:4f8:5::7/udp/4101/quic-v1\"\n]"},
		{key: "network.announce_addrs", value: "", want: "[]"},
		{key: "network.announce_addrs", value: "203.0.113.7:40000", err: `"203.0.113.7:40000" is not a multiaddr`},
		{key: "network.announce_addrs", value: "/ip4/192.168.1.2/tcp/4101", err: "is not a public address: peers on the LAN get this machine's own addresses already"},
		{key: "network.announce_addrs", value: "/ip6/::/tcp/4101", err: "is not a public IPv6 address"},
		{key: "network.announce_addrs", value: "/ip4/203.0.113.7/tcp/0", err: "has no port"},
		{key: "network.announce_addrs", value: "/ip4/203.0.113.7/udp/40000", err: "is neither TCP nor QUIC"},
		{key: "network.announce_addrs", value: "/ip4/203.0.113.7/udp/40000/quic-v1/webtransport", err: "is neither TCP nor QUIC"},
		{key: "network.announce_addrs", value: "/ip4/203.0.113.7/tcp/40000/p2p/12D3KooWA1b2RkSKDfFyRRXXnGzRWDQFoPRVSGJstxA4q8DvwzqT", err: "names a peer ID"},
		{key: "network.bootstrap", value: "[]", want: "[]"},
		{key: "network.bootstrap", value: "/ip4/192.0.2.1/tcp/4101/p2p/12D3KooWA1b2RkSKDfFyRRXXnGzRWDQFoPRVSGJstxA4q8DvwzqT",
			want: "[\n  \"/ip4/192.0.2.1/tcp/4101/p2p/12D3KooWA1b2RkSKDfFyRRXXnGzRWDQFoPRVSGJstxA4q8DvwzqT\"\n]"},
		{key: "network.bootstrap", value: "/ip4/192.0.2.1/tcp/4101", err: "is not a multiaddr ending in /p2p/ID"},
		{key: "network.reachability", value: "public", want: "public"},
		{key: "network.reachability", value: "sometimes", err: `network.reachability "sometimes" is not auto, public or private`},
		{key: "network.conn_high", value: "200", want: "200"},
		{key: "network.conn_high", value: "10", err: "network.conn_low (32) is above network.conn_high (10)"},
		{key: "network.conn_low", value: "-1", err: "network.conn_low -1 is negative"},
		{key: "network.conn_low", value: "lots", err: `network.conn_low takes a whole number, not "lots"`},
		{key: "network.max_memory_mib", value: "0", err: "must be at least 1"},
		{key: "dht.protocol_prefix", value: "/family", want: "/family"},
		{key: "dht.protocol_prefix", value: "family", err: "must start with /"},
		{key: "dht.mode", value: "client", want: "client"},
		{key: "dht.mode", value: "peer", err: `dht.mode "peer" is not auto, server or client`},
		{key: "dht.reprovide_interval", value: "12h", want: "12h0m0s"},
		{key: "dht.reprovide_interval", value: "0s", err: "must be longer than zero"},
		{key: "dht.reprovide_interval", value: "3d", err: "is above 24h0m0s"},
		{key: "dht.reprovide_interval", value: "soon", err: "takes a duration such as 90s"},
		{key: "fetch.http_providers", value: "false", want: "false"},
		{key: "names.delegated_routers", value: "", want: "[]"},
		{key: "names.delegated_routers", value: "delegated-ipfs.dev", err: `names.delegated_routers: "delegated-ipfs.dev" is not the URL of a delegated router`},
		{key: "dht.delegated_routers", value: "https://cid.contact,http://127.0.0.1:8080", want: "[\n  \"https://cid.contact\",\n  \"http://127.0.0.1:8080\"\n]"},
		{key: "dht.delegated_routers", value: "", want: "[]"},
		{key: "dht.delegated_routers", value: "cid.contact", err: `dht.delegated_routers: "cid.contact" is not the URL of a delegated router`},
		{key: "dht.delegated_routers", value: "https://cid.contact,https://cid.contact", err: "dht.delegated_routers lists https://cid.contact twice"},
		{key: "names.dns_resolvers", value: "eth=https://dns.example/dns-query,.=", want: "[\n  \"eth=https://dns.example/dns-query\",\n  \".=\"\n]"},
		{key: "names.dns_resolvers", value: "eth", err: `names.dns_resolvers: "eth" is not DOMAIN=URL`},
		{key: "names.dns_resolvers", value: "eth=ftp://dns.example", err: `"ftp://dns.example" is not the URL of a DNS-over-HTTPS server`},
		{key: "names.dns_resolvers", value: "a..b=https://dns.example", err: `"a..b" is not a domain`},
		{key: "names.dns_resolvers", value: "eth=,ETH.=https://dns.example", err: "names.dns_resolvers lists eth twice"},
		{key: "fetch.upload_limit", value: "1048576", want: "1048576"},
		{key: "fetch.upload_limit", value: "10MiB", want: "10485760"},
		{key: "fetch.upload_limit", value: "2 MB", want: "2000000"},
		{key: "fetch.upload_limit", value: "-5", err: "fetch.upload_limit -5 is negative"},
		{key: "fetch.upload_limit", value: "fast", err: "takes a number of bytes per second"},
		{key: "fetch.download_limit", value: "5MiB", want: "5242880"},
		{key: "fetch.download_limit", value: "0", want: "0"},
		{key: "fetch.download_limit", value: "10KiB", err: "fetch.download_limit 10 KiB is below the lowest cap, 64 KiB per second (0: no cap)"},
		{key: "fetch.download_limit", value: "-1", err: "fetch.download_limit -1 is negative (0: no cap)"},
		{key: "fetch.max_download_rate", value: "1", err: "did you mean fetch.download_limit?"},
		{key: "fetch.bitswap", value: "off", want: "false"},
		{key: "groups.grace", value: "45m", want: "45m0s"},
		{key: "groups.tombstone_horizon", value: "14d", want: "336h0m0s"},
		{key: "groups.grace", value: "-1m", err: "groups.grace -1m0s must be longer than zero"},
		{key: "groups.budget_percent", value: "101", err: "is not a percentage from 0 (keep no copies for the groups) to 100"},
		{key: "groups.budget_max", value: "50GiB", want: "53687091200"},
		{key: "groups.fetch_concurrency", value: "0", err: "groups.fetch_concurrency 0 must be at least 1"},
		{key: "identity.peer_id", value: "12D3KooW", err: "derived from the repo's identity key"},
		{key: "api", value: "x", err: "api is a section of the config, not one setting: set one of its keys (api.address, api.metrics_without_token)"},
		{key: "api.adress", value: "x", err: `"api.adress" is not a config key: did you mean api.address?`},
		{key: "fetch.max_upload_rate", value: "1", err: "did you mean fetch.upload_limit?"},
		{key: "network.mdsn", value: "true", err: "did you mean network.mdns?"},
		{key: "colour", value: "blue", err: "is not a config key (`kith config show` lists them all)"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			c := DefaultConfig()
			err := c.Set(tt.key, tt.value)
			if err == nil {
				err = c.Validate()
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(api.Sentence(err), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				if !errors.Is(err, api.ErrInvalid) {
					t.Errorf("error %v is not ErrInvalid", err)
				}
				if s := api.Sentence(err); strings.HasSuffix(s, "invalid input") || strings.Count(s, "\n") > 0 {
					t.Errorf("message %q is not one sentence", s)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v, err := c.Lookup(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if v.Text() != tt.want {
				t.Errorf("get %s = %q, want %q", tt.key, v.Text(), tt.want)
			}
		})
	}
}

// TestConfigKeys: every field of the file is a key, in file order, and
// each round-trips: what `get` shows, `set` takes back unchanged.
func TestConfigKeys(t *testing.T) {
	keys := ConfigKeys()
	b, _ := json.Marshal(DefaultConfig())
	var file map[string]map[string]json.RawMessage
	json.Unmarshal(b, &file)
	n := 0
	for _, sec := range file {
		n += len(sec)
	}
	if len(keys) != n || keys[0] != "identity.peer_id" || keys[1] != "api.address" {
		t.Fatalf("%d keys (%v), the file has %d settings", len(keys), keys, n)
	}
	for _, k := range keys {
		if k == "groups.gossip_heartbeat" || strings.Contains(k, "gater") {
			t.Errorf("%s is not in the file but is a key", k)
		}
		if _, ro := readOnlyKeys[k]; ro {
			continue
		}
		c := DefaultConfig()
		v, err := c.Lookup(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Set(k, v.Text()); err != nil {
			t.Errorf("set %s %q: %v", k, v.Text(), err)
		}
		if !reflect.DeepEqual(c, DefaultConfig()) {
			t.Errorf("set %s %q changed the config", k, v.Text())
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("the default config is invalid: %v", err)
	}
	if err := LocalConfig().Validate(); err != nil {
		t.Errorf("the local config is invalid: %v", err)
	}
	if v, _ := DefaultConfig().Lookup("api"); v.Text() != "{\n  \"address\": \"127.0.0.1:5091\",\n  \"metrics_without_token\": false\n}" {
		t.Errorf("get api = %s", v.Text())
	}
}

// TestConfigEdit: set and unset change that key in the file and nothing
// else (order, unknown keys and the other values stay), and an older
// kith's file keeps meaning what it meant.
func TestConfigEdit(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		key    string
		value  string // "" with unset
		unset  bool
		after  string // the file afterwards, compacted
		errMsg string
	}{
		{name: "replace, keep order and unknown keys",
			file: `{"api": {"metrics_without_token": false, "address": "127.0.0.1:5091"}, "future": {"x": 1}, "dht": {"protocol_prefix": "/ipfs", "mode": "auto"}}`,
			key:  "api.address", value: "127.0.0.1:6000",
			after: `{"api":{"metrics_without_token":false,"address":"127.0.0.1:6000"},"future":{"x":1},"dht":{"protocol_prefix":"/ipfs","mode":"auto"}}`},
		{name: "a key the file lacks is added to its section",
			file: `{"api": {"address": "127.0.0.1:5091"}}`,
			key:  "network.mdns", value: "false",
			after: `{"api":{"address":"127.0.0.1:5091"},"network":{"mdns":false}}`},
		{name: "a dht key in a file without dht keeps the public DHT",
			file: `{"api": {"address": "127.0.0.1:5091"}}`,
			key:  "dht.mode", value: "client",
			after: `{"api":{"address":"127.0.0.1:5091"},"dht":{"mode":"client","protocol_prefix":"/ipfs"}}`},
		{name: "an old closed network stays closed when its prefix is set",
			file: `{"dht": {"mode": "server"}}`,
			key:  "dht.protocol_prefix", value: "/family",
			after: `{"dht":{"mode":"server","protocol_prefix":"/family","dual":false},"network":{"bootstrap":[]}}`},
		{name: "unset writes the default",
			file: `{"fetch": {"upload_limit": 1000, "bitswap": false}}`,
			key:  "fetch.upload_limit", unset: true,
			after: `{"fetch":{"upload_limit":0,"bitswap":false}}`},
		{name: "an invalid value leaves the file alone",
			file: `{"dht": {"protocol_prefix": "/ipfs"}}`,
			key:  "dht.mode", value: "sideways", errMsg: `dht.mode "sideways" is not auto, server or client`},
		{name: "a broken file is not rewritten",
			file: `{"dht": {"protocol_prefix": "/ipfs",}}`,
			key:  "dht.mode", value: "client", errMsg: "is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := ConfigPath(dir)
			if err := os.WriteFile(path, []byte(tt.file), 0o640); err != nil {
				t.Fatal(err)
			}
			before, _ := decodeConfig([]byte(tt.file))
			var err error
			if tt.unset {
				_, err = UnsetConfig(dir, tt.key)
			} else {
				_, err = SetConfig(dir, tt.key, tt.value)
			}
			got, _ := os.ReadFile(path)
			if tt.errMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errMsg) {
					t.Fatalf("error %v, want %q", err, tt.errMsg)
				}
				if string(got) != tt.file {
					t.Fatalf("file changed to %s", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, got); err != nil || !strings.HasSuffix(string(got), "}\n") || !strings.Contains(string(got), "\n  \"") {
				t.Fatalf("file is not indented JSON (%v): %s", err, got)
			}
			if compact.String() != tt.after {
				t.Errorf("file:\n%s\nwant:\n%s", compact.String(), tt.after)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want the file's own 0640", fi.Mode().Perm())
			}
			// What the daemon reads is what it read before, but for the key.
			after, err := ReadConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			if tt.unset {
				before.Unset(tt.key)
			} else {
				before.Set(tt.key, tt.value)
			}
			if !reflect.DeepEqual(after, before) {
				t.Errorf("the daemon reads\n%+v\nwant\n%+v", after, before)
			}
		})
	}
}

// TestReadConfigNoRepo: a repo that does not exist yet is not found, in
// one sentence that says how to make it.
func TestReadConfigNoRepo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nothing")
	_, err := ReadConfig(dir)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "`kith daemon` creates the repo") || strings.Contains(err.Error(), "no such file") {
		t.Fatalf("error %v", err)
	}
	if _, err := SetConfig(dir, "dht.mode", "client"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("set: %v", err)
	}
	if inUse, err := RepoInUse(dir); inUse || err != nil {
		t.Fatalf("RepoInUse of no repo: %v, %v", inUse, err)
	}
}

// TestRepoInUse: the lock a daemon holds is seen, and the probe leaves it
// free for the daemon once released.
func TestRepoInUse(t *testing.T) {
	dir := t.TempDir()
	lk, err := lockRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if inUse, err := RepoInUse(dir); !inUse || err != nil {
		t.Fatalf("held lock: in use %v, %v", inUse, err)
	}
	lk.Close()
	if inUse, err := RepoInUse(dir); inUse || err != nil {
		t.Fatalf("released lock: in use %v, %v", inUse, err)
	}
	lk, err = lockRepo(dir)
	if err != nil {
		t.Fatalf("lock after the probe: %v", err)
	}
	lk.Close()
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "1.5d": 36 * time.Hour, "90s": 90 * time.Second, "1h30m": 90 * time.Minute} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"d", "-1d", "xd", "7"} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) accepted", in)
		}
	}
}
