package cli

import (
	"testing"

	"github.com/kith-p2p/kith/web/api"
)

func TestPinGroupsNote(t *testing.T) {
	tests := []struct {
		name string
		pin  api.Pin
		want string
	}{
		{"the user's pin only", api.Pin{Name: "notes"}, ""},
		{"a replica", api.Pin{Replica: true, Group: "family", Groups: []string{"family"}}, " · family · replica"},
		{"a replica, from an older daemon without groups", api.Pin{Replica: true, Group: "family"}, " · family · replica"},
		{"a replica no group shares any more", api.Pin{Replica: true, Releasing: true, Group: "family", Groups: []string{"family"}}, " · family · replica, no longer shared"},
		{"a replica two groups keep", api.Pin{Replica: true, Group: "family", Groups: []string{"family", "work"}}, " · family, work · replica"},
		{"the user's pin a group keeps too", api.Pin{Groups: []string{"family"}}, " · also kept for family"},
		{"the user's private pin", api.Pin{Name: "notes", Private: true}, " · private"},
		{"the user's private pin a group keeps too", api.Pin{Groups: []string{"family"}, Private: true}, " · also kept for family · private"},
		{"a group name with a control character", api.Pin{Groups: []string{"fam\x1bily"}}, " · also kept for " + printable("fam\x1bily")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pinGroupsNote(tc.pin); got != tc.want {
				t.Errorf("pinGroupsNote = %q, want %q", got, tc.want)
			}
		})
	}
}
