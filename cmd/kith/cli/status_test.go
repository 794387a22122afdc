package cli

import (
	"slices"
	"testing"

	"github.com/kith-p2p/kith/web/api"
)

// TestReasonLines: each reason is said once, under the table, with the
// shares it is about (each named once), in the order the table lists them.
func TestReasonLines(t *testing.T) {
	const checking = "1 of the members chosen to keep a copy has not said yet what it holds"
	tests := []struct {
		name string
		sts  []api.GroupStatus
		want []string
	}{
		{"none", []api.GroupStatus{{GroupIntent: api.GroupIntent{Name: "a"}, State: "held"}}, nil},
		{"one reason, two shares", []api.GroupStatus{
			{GroupIntent: api.GroupIntent{Name: "SA"}, State: "checking", Reason: checking},
			{GroupIntent: api.GroupIntent{Name: "odd"}, State: "held"},
			{GroupIntent: api.GroupIntent{Name: "odd"}, State: "checking", Reason: checking},
			{GroupIntent: api.GroupIntent{Name: "odd"}, State: "checking", Reason: checking}, // an earlier version
		}, []string{"checking: " + checking + " (SA, odd)"}},
		{"two reasons", []api.GroupStatus{
			{GroupIntent: api.GroupIntent{Name: "b"}, State: "under-replicated", Reason: "no member has room"},
			{GroupIntent: api.GroupIntent{Name: ""}, State: "checking", Reason: checking},
			{GroupIntent: api.GroupIntent{Name: "c"}, State: "under-replicated", Reason: "no member has room"},
		}, []string{"under-replicated: no member has room (b, c)", "checking: " + checking + " ((no name))"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reasonLines(tt.sts); !slices.Equal(got, tt.want) {
				t.Errorf("reasonLines = %q, want %q", got, tt.want)
			}
		})
	}
}
