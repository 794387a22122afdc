package cli

import "testing"

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"holiday.jpg", "holiday.jpg"},
		{"été 2026 📷", "été 2026 📷"},
		{"\x1b]0;pwned\x07title", `\x1b]0;pwned\atitle`},
		{"clear\x1b[2J", `clear\x1b[2J`},
		{"csi\u009b31m", `csi\u009b31m`},
		{"tab\there", `tab\there`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"line\nbreak", `line\nbreak`},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
