package node

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

func TestStatsHistoryKeepsTwoMinutes(t *testing.T) {
	var h statsHistory
	t0 := time.Unix(1000, 0)
	for i := range statsHistoryLen + 30 {
		h.add(api.Stats{RateIn: float64(i), Time: t0.Add(time.Duration(i) * time.Second)})
	}
	got := h.list()
	if len(got) != statsHistoryLen {
		t.Fatalf("%d samples, want %d", len(got), statsHistoryLen)
	}
	if got[0].RateIn != 30 || got[len(got)-1].RateIn != statsHistoryLen+29 {
		t.Fatalf("kept %v .. %v, want the newest, oldest first", got[0].RateIn, got[len(got)-1].RateIn)
	}
	got[0].RateIn = -1
	if h.list()[0].RateIn == -1 {
		t.Fatal("list shares the ring")
	}
}

// TestStatsHistoryStartsAsAList: before the first sample the history is
// an empty list on the wire, not null (which the web UI's stream reader
// choked on, so a page opened on a daemon just started missed events).
func TestStatsHistoryStartsAsAList(t *testing.T) {
	var h statsHistory
	b, err := json.Marshal(h.list())
	if err != nil || string(b) != "[]" {
		t.Fatalf("empty history marshals to %s, %v; want []", b, err)
	}
}
