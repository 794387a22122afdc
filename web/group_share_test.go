package web

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/web/api"
)

// shareBackend records the options of the last share.
type shareBackend struct {
	fakeBackend
	got api.ShareOptions
}

func (b *shareBackend) GroupShare(_ context.Context, name string, c cid.Cid, opts api.ShareOptions) (api.GroupIntent, error) {
	b.got = opts
	return api.GroupIntent{Group: name, Cid: c.String(), Copies: opts.Copies}, nil
}

// TestGroupShareRoute: POST /groups/share passes copies and replace on;
// a replace that is not a boolean is refused as invalid, in a sentence.
func TestGroupShareRoute(t *testing.T) {
	b := &shareBackend{}
	s := startServer(t, b)
	const c = "bafkreicljtzuqjre64mv5kc5pf3plz2wsh2fjhkrof3v6rgdvkdfva24qe"
	tests := []struct {
		query  string
		status int
		want   api.ShareOptions
	}{
		{"&copies=2", 200, api.ShareOptions{Copies: 2}},
		{"&copies=3&replace=true", 200, api.ShareOptions{Copies: 3, Replace: true}},
		{"&copies=2&path=%2Fhome%2Fa%2FDocs", 200, api.ShareOptions{Copies: 2, Path: "/home/a/Docs"}},
		{"&copies=1&replace=false", 200, api.ShareOptions{Copies: 1}},
		{"&copies=2&replace=maybe", 400, api.ShareOptions{}},
		{"&copies=two", 400, api.ShareOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			b.got = api.ShareOptions{}
			resp := request(t, s, http.MethodPost, "/api/v1/groups/share?group=family&cid="+c+tt.query, bearer())
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != 200 {
				var eb api.ErrorBody
				if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil || eb.Kind != api.KindInvalid || eb.Error == "" {
					t.Fatalf("error body %+v, %v; want kind invalid", eb, err)
				}
				return
			}
			if b.got != tt.want {
				t.Fatalf("the backend was asked %+v, want %+v", b.got, tt.want)
			}
		})
	}
}
