package node

import (
	"testing"

	"github.com/kith-p2p/kith/blockstore"
)

func TestCarPinName(t *testing.T) {
	tests := []struct {
		name        string
		car         string
		i, n        int
		first, want string
	}{
		{"the CAR's name without .car", "holiday.car", 0, 1, "", "holiday"},
		{"any case of .car", "Holiday.CAR", 0, 1, "", "Holiday"},
		{"another extension stays", "photo.jpg", 0, 1, "", "photo.jpg"},
		{"a path sent by mistake", "/home/me/cars/holiday.car", 0, 1, "", "holiday"},
		{"a Windows path", `C:\Users\me\holiday.car`, 0, 1, "", "holiday"},
		{"a file called .car", ".car", 0, 1, "", ".car"},
		{"several roots are numbered", "backup.car", 1, 3, "x", "backup (2 of 3)"},
		{"the CAR's name wins over the first entry", "holiday.car", 0, 1, "beach.jpg", "holiday"},
		{"no CAR name: the folder's first entry", "", 0, 1, "beach.jpg", "beach.jpg"},
		{"no CAR name, no folder: no name", "", 0, 2, "", ""},
		{"blank", "  ", 0, 1, "a", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := carPinName(tt.car, tt.i, tt.n, tt.first); got != tt.want {
				t.Errorf("carPinName(%q, %d, %d, %q) = %q, want %q", tt.car, tt.i, tt.n, tt.first, got, tt.want)
			}
		})
	}
}

func TestImportedPinName(t *testing.T) {
	replica := blockstore.Pin{Owner: blockstore.GroupOwner("GROUPID", "album"), Name: "album"}
	other := blockstore.Pin{Owner: blockstore.GroupOwner("OTHER", "photos"), Name: "photos"}
	named := blockstore.Pin{Name: "Summer 2026"}
	tests := []struct {
		name   string
		others []blockstore.Pin
		car    string
		want   string
	}{
		{"the user's name stays", []blockstore.Pin{named}, "holiday", "Summer 2026"},
		{"the user's name stays beside a group's copy", []blockstore.Pin{named, replica}, "", "Summer 2026"},
		{"an unnamed pin gets the CAR's", []blockstore.Pin{{}}, "holiday", "holiday"},
		{"an unnamed pin, no CAR name", []blockstore.Pin{{}}, "", ""},
		{"an unnamed pin beside a group's copy: the share's name", []blockstore.Pin{{}, replica}, "", "album"},
		{"a group's copy gets the user's pin, named after the CAR", []blockstore.Pin{replica}, "holiday", "holiday"},
		{"a group's copy, no CAR name: the share's name", []blockstore.Pin{replica, other}, "", "album"},
		{"not pinned before", nil, "holiday", "holiday"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := importedPinName(tt.others, tt.car); got != tt.want {
				t.Errorf("importedPinName(%v, %q) = %q, want %q", tt.others, tt.car, got, tt.want)
			}
		})
	}
}
