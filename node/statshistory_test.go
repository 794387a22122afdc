package node

import (
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
