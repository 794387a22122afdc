package node

import "testing"

func TestRepoPathFor(t *testing.T) {
	tests := []struct {
		name   string
		goos   string
		home   string
		env    map[string]string
		exists []string
		want   string
		err    bool
	}{
		{name: "linux", goos: "linux", home: "/home/ann", want: "/home/ann/.kith"},
		{name: "linux existing", goos: "linux", home: "/home/ann", exists: []string{"/home/ann/.kith"}, want: "/home/ann/.kith"},
		{name: "freebsd", goos: "freebsd", home: "/home/ann", want: "/home/ann/.kith"},
		{name: "KITH_PATH wins", goos: "linux", home: "/home/ann", env: map[string]string{"KITH_PATH": "/data/kith"},
			exists: []string{"/home/ann/.kith"}, want: "/data/kith"},
		{name: "KITH_PATH without home", goos: "linux", env: map[string]string{"KITH_PATH": "/data/kith"}, want: "/data/kith"},
		{name: "no home", goos: "linux", err: true},
		{name: "macOS new", goos: "darwin", home: "/Users/ann", want: "/Users/ann/Library/Application Support/kith"},
		{name: "macOS keeps ~/.kith", goos: "darwin", home: "/Users/ann", exists: []string{"/Users/ann/.kith"}, want: "/Users/ann/.kith"},
		{name: "macOS KITH_PATH", goos: "darwin", home: "/Users/ann", env: map[string]string{"KITH_PATH": "/Volumes/x/kith"}, want: "/Volumes/x/kith"},
		{name: "macOS home with a slash", goos: "darwin", home: "/Users/ann/", want: "/Users/ann/Library/Application Support/kith"},
		{name: "windows new", goos: "windows", home: `C:\Users\Ann Lee`, env: map[string]string{"LOCALAPPDATA": `C:\Users\Ann Lee\AppData\Local`},
			want: `C:\Users\Ann Lee\AppData\Local\kith`},
		{name: "windows keeps ~/.kith", goos: "windows", home: `C:\Users\ann`, env: map[string]string{"LOCALAPPDATA": `C:\Users\ann\AppData\Local`},
			exists: []string{`C:\Users\ann\.kith`}, want: `C:\Users\ann\.kith`},
		{name: "windows without LOCALAPPDATA", goos: "windows", home: `C:\Users\ann\`, want: `C:\Users\ann\AppData\Local\kith`},
		{name: "windows KITH_PATH", goos: "windows", home: `C:\Users\ann`, env: map[string]string{"KITH_PATH": `D:\kith`}, want: `D:\kith`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			exists := func(p string) bool {
				for _, e := range tt.exists {
					if e == p {
						return true
					}
				}
				return false
			}
			got, err := RepoPathFor(tt.goos, tt.home, getenv, exists)
			if tt.err {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
