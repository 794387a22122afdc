package dag

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/blockstore"
)

// failing is a file that reads data, then fails with err, as a file
// another program locked part of does.
func failing(data string, err error) files.File {
	return files.NewReaderFile(io.MultiReader(strings.NewReader(data), errReader{err}))
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestImportReadFailing: a file that fails while it is read is, with
// WithUnreadable and the earlier version known, as one that could not be
// opened: linked as it was, or left out while new; without the option,
// the import fails with its error.
func TestImportReadFailing(t *testing.T) {
	ctx := context.Background()
	bs := blockstore.NewMemStore()
	v1, err := NewImporter(bs).Add(ctx, tree{"a": []byte("a"), "f": []byte("f as shared")}.node(), nil)
	if err != nil {
		t.Fatal(err)
	}
	locked := errors.New("the process cannot access the file because another process has locked a portion of it")
	next := func() files.Node {
		return files.NewMapDirectory(map[string]files.Node{
			"a": files.NewBytesFile([]byte("a, changed")),
			"f": failing("f, being written", locked),
			"g": failing("g, new", locked),
		})
	}
	reuse := WithReuse(Reuse{Prev: v1.Root, Since: time.Now()})
	if _, err := NewImporter(bs, reuse).Add(ctx, next(), nil); !errors.Is(err, locked) {
		t.Fatalf("without WithUnreadable: %v, want the read error", err)
	}
	var got []string
	res, err := NewImporter(bs, reuse, WithUnreadable(func(where string, err error, asBefore bool) {
		if !errors.Is(err, locked) {
			t.Errorf("%s reported with %v", where, err)
		}
		got = append(got, where+map[bool]string{true: " as before", false: " left out"}[asBefore])
	})).Add(ctx, next(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"f as before", "g left out"}; !slices.Equal(got, want) {
		t.Errorf("reported %q, want %q", got, want)
	}
	es, err := Ls(ctx, bs, res.Root)
	if err != nil {
		t.Fatal(err)
	}
	f1, _ := Resolve(ctx, bs, v1.Root, []string{"f"})
	if len(es) != 2 || es[0].Name != "a" || es[1].Name != "f" || es[1].Cid != f1 {
		t.Errorf("the version holds %+v, want a and f as it was (%s)", es, f1)
	}
}
