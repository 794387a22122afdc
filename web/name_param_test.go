package web

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/protocol/ticket"
)

// TestNameParam: what is pinned or fetched from a ticket is named as its
// sharer named it, unless the request names it.
func TestNameParam(t *testing.T) {
	c := cid.MustParse("bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe")
	named := ticket.Ticket{Cid: c, Name: "holiday.mp4"}.String()
	unnamed := ticket.Ticket{Cid: c}.String()
	tests := []struct{ cid, name, want string }{
		{named, "", "holiday.mp4"},
		{named, "mine", "mine"},
		{unnamed, "", ""},
		{c.String(), "", ""},
		{c.String(), "x", "x"},
		{"kith1garbage", "", ""},
		{c.String() + "/2026/beach.jpg", "", "beach.jpg"},
		{"/ipfs/" + c.String() + "/beach.jpg/", "", "beach.jpg"},
		{named + "/inside.txt", "", "inside.txt"},
		{c.String() + "/a/..", "", ""},
		{c.String() + "/con", "", "_con"},
	}
	for _, tt := range tests {
		q := url.Values{"cid": {tt.cid}}
		if tt.name != "" {
			q.Set("name", tt.name)
		}
		r := httptest.NewRequest("POST", "/api/v1/pin/add?"+q.Encode(), nil)
		if got := nameParam(r); got != tt.want {
			t.Errorf("cid=%.20s… name=%q: %q, want %q", tt.cid, tt.name, got, tt.want)
		}
	}
}
