package node

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/web/api"
)

// TestSettingsThroughTheAPI: the web UI's Settings page reads and sets
// config.json through the API, as kith config does: a live setting
// applies at once, another is pending until a restart, and a value the
// daemon could not run with is refused with the file left alone.
func TestSettingsThroughTheAPI(t *testing.T) {
	n, c := startNode(t)
	ctx := context.Background()

	all, err := c.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(ConfigKeys()) || all[0].Key != ConfigKeys()[0] {
		t.Fatalf("%d settings, first %+v; want every key, in file order", len(all), all[0])
	}
	got, err := c.Settings(ctx, "groups.budget_percent", "identity.peer_id")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Default != "20" || !got[0].Live || got[0].Pending ||
		got[1].Value != n.host.ID().String() || !got[1].ReadOnly {
		t.Errorf("two settings: %+v", got)
	}

	before, err := os.ReadFile(ConfigPath(n.repo.dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, value, says string }{
		{"fetch.upload_rate", "1", "did you mean fetch.upload_limit"},
		{"groups.budget_percent", "101", "not a percentage from 0"},
		{"groups.grace", "soon", ""},
		{"identity.peer_id", "12D3KooW", "cannot be set"},
		{"api", "x", "a section of the config"},
	} {
		_, err := c.SetSetting(ctx, tc.key, tc.value)
		if api.KindOf(err) != api.KindInvalid || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("set %s %s: %v, want invalid saying %q", tc.key, tc.value, err, tc.says)
		}
	}
	if after, _ := os.ReadFile(ConfigPath(n.repo.dir)); string(after) != string(before) {
		t.Error("a refused setting changed config.json")
	}
	if _, err := c.Settings(ctx, "nope"); api.KindOf(err) != api.KindInvalid {
		t.Errorf("an unknown key: %v", err)
	}

	// Live: applied at once.
	s, err := c.SetSetting(ctx, "fetch.upload_limit", "2MiB")
	if err != nil {
		t.Fatal(err)
	}
	if s.Value != "2097152" || s.Pending || !s.Live {
		t.Errorf("upload limit set: %+v", s)
	}
	if lim := n.upload.Limit(); lim != 2<<20 {
		t.Errorf("the daemon sends at most %v bytes/s, want 2 MiB", lim)
	}
	s, err = c.SetSetting(ctx, "groups.budget_percent", "0")
	if err != nil || s.Value != "0" || s.Pending {
		t.Errorf("budget set: %+v, %v", s, err)
	}
	if b := n.groupBudget(); b != 0 {
		t.Errorf("the daemon offers %d bytes, want none", b)
	}
	// Not live: pending until a restart, then not.
	s, err = c.SetSetting(ctx, "groups.grace", "2h")
	if err != nil || s.Value != "2h0m0s" || !s.Pending || s.Live {
		t.Errorf("grace set: %+v, %v", s, err)
	}
	s, err = c.SetSetting(ctx, "groups.grace", "30m")
	if err != nil || s.Pending {
		t.Errorf("grace set back: %+v, %v", s, err)
	}
}
