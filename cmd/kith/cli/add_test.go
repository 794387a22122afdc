package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/kith-p2p/kith/web/api"
)

// TestSkipAdvice: an add's error about a file inside the folder that may
// not be read (the daemon's, or this command's as it streams) says
// --skip-unreadable too; other errors are left as they are.
func TestSkipAdvice(t *testing.T) {
	denied := &fs.PathError{Op: "open", Path: "/h/docs/secret.txt", Err: syscall.EACCES}
	inside := api.Unreadable(fmt.Errorf("add docs: %w", denied), "/h/docs")
	const advice = " (or add with --skip-unreadable to leave out every one that may not be read)"
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"the daemon's", &api.Error{Kind: api.KindPermission, Message: inside.Error()}, inside.Error() + advice},
		{"this command's", inside, inside.Error() + advice},
		{"the folder itself", api.Unreadable(fmt.Errorf("add docs: %w", &fs.PathError{Op: "open", Path: "/h/docs", Err: syscall.EACCES}), "/h/docs"),
			"add docs: open /h/docs: permission denied"},
		{"another error", errors.New("add docs: no space left on the device"), "add docs: no space left on the device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := skipAdvice(tc.err).Error(); got != tc.want {
				t.Errorf("skipAdvice = %q, want %q", got, tc.want)
			}
		})
	}
}
