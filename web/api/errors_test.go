package api

import (
	"errors"
	"fmt"
	"testing"
)

func TestSentence(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("repo /r exists: %w", ErrInvalid), "repo /r exists"},
		{fmt.Errorf("get x: %w", fmt.Errorf("no peer: %w", ErrUnavailable)), "get x: no peer"},
		{fmt.Errorf("%w: %w", errors.New("bad token"), ErrInvalid), "bad token"},
		{fmt.Errorf("write /etc/x: %w", ErrPermission), "write /etc/x"},
		{errors.New("the daemon's own words: invalid input here"), "the daemon's own words: invalid input here"},
		{ErrInvalid, "invalid input"}, // nothing else to say
	}
	for _, tt := range tests {
		if got := Sentence(tt.err); got != tt.want {
			t.Errorf("Sentence(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
