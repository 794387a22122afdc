package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/web/api"
)

// TestRoutesAreDocumented: every API route the server registers is in
// docs/api.md, written as "METHOD /path" (then "?", "`" or a space), so the
// reference cannot drift from the server again.
func TestRoutesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	m := (&Server{backend: &fuzzBackend{}}).routes()
	if len(m.patterns) < 20 {
		t.Fatalf("only %d routes recorded: is routeMux still in use?", len(m.patterns))
	}
	for _, pat := range m.patterns {
		if pat == api.Prefix+"/" { // the catch-all that answers "no API route"
			continue
		}
		documented := false
		for _, next := range []string{"?", "`", " "} {
			if strings.Contains(text, pat+next) {
				documented = true
				break
			}
		}
		if !documented {
			t.Errorf("route %q is not in docs/api.md", pat)
		}
	}
}
