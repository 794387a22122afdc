package node

import "testing"

func TestIsRelease(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"v1.2.3", true},
		{"v0.2.0-rc.1", true},
		{"(devel)", false},
		{"", false},
		{"v0.0.0-20261202101500-b5c2d27f0a1b", false},
		{"v1.2.4-0.20261202101500-b5c2d27f0a1b", false},
		{"v0.0.0-20261202101500-b5c2d27f0a1b+dirty", false},
		{"v1.2.3+dirty", false},
	}
	for _, tt := range tests {
		if got := isRelease(tt.v); got != tt.want {
			t.Errorf("isRelease(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
