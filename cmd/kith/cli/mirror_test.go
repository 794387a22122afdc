package cli

import (
	"testing"

	"github.com/kith-p2p/kith/web/api"
)

func TestMirrorDoing(t *testing.T) {
	for _, tc := range []struct {
		m    api.GroupMirror
		want string
	}{
		{api.GroupMirror{Pending: "bafyv2"}, "fetching and writing the newer version bafyv2"},
		{api.GroupMirror{Pending: "bafyv2", Phase: "compare", Done: 3 << 30, Total: 40 << 30}, "comparing the files there with the newer version: 3.0 GiB of 40 GiB"},
		{api.GroupMirror{Pending: "bafyv2", Phase: "fetch", Total: 5 << 20}, "fetching what the newer version changed: 0 B of 5.0 MiB"},
		{api.GroupMirror{Pending: "bafyv2", Phase: "write", Done: 1 << 20, Total: 2 << 20}, "writing the newer version in: 1.0 MiB of 2.0 MiB"},
		{api.GroupMirror{Pending: "bafyv2", Phase: "write"}, "fetching and writing the newer version bafyv2"},
		{api.GroupMirror{Pending: "bafyv2", Phase: "later"}, "fetching and writing the newer version bafyv2"},
		{api.GroupMirror{Cid: "bafyv2", Pending: "bafyv2", Revert: true}, "writing the group's version over what was changed there"},
		{api.GroupMirror{Cid: "bafyv2", Pending: "bafyv2", Phase: "write", Done: 1 << 20, Total: 2 << 20}, "writing the group's version over what was changed there: 1.0 MiB of 2.0 MiB"},
	} {
		if got := mirrorDoing(tc.m); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.m, got, tc.want)
		}
	}
}
