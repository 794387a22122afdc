package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// AddPath adds the file or folder at path (folders only with recursive) and
// streams it to the daemon as multipart, the format of boxo/files.
func (c *Client) AddPath(ctx context.Context, path string, recursive bool, opts api.AddOptions, progress func(api.Event)) (api.AddResult, error) {
	// A link named on the command line is followed (links inside a folder
	// are kept as links).
	st, err := os.Stat(path)
	if err != nil {
		if target, lerr := os.Readlink(path); lerr == nil {
			return api.AddResult{}, fmt.Errorf("add %s: it is a symbolic link to %s, which cannot be read: %w", path, target, api.PathReason(err))
		}
		return api.AddResult{}, fmt.Errorf("add %s: %w", path, api.PathReason(err))
	}
	exclude, err := dag.NewExclusion(opts.Exclude)
	if err != nil {
		return api.AddResult{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	if st.IsDir() && !recursive {
		return api.AddResult{}, fmt.Errorf("add %s: it is a folder; use -r to add a folder: %w", path, api.ErrInvalid)
	}
	if !st.IsDir() && !st.Mode().IsRegular() {
		return api.AddResult{}, fmt.Errorf("add %s: not a regular file or folder: %w", path, api.ErrInvalid)
	}
	if !st.IsDir() {
		// Fail here, with the path, rather than half-way through the upload.
		f, err := os.Open(path)
		if err != nil {
			return api.AddResult{}, fmt.Errorf("add %s: %w", path, api.PathReason(err))
		}
		f.Close()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return api.AddResult{}, fmt.Errorf("add %s: %w", path, err)
	}
	// The daemon usually runs as the same user on the same machine: let it
	// read the file itself, which spares streaming every byte through the
	// API. If it cannot read the path (another user, a container), stream.
	q := addQuery(opts)
	q.Set("path", abs)
	if recursive {
		q.Set("recursive", "true")
	}
	var res api.AddResult
	err = c.stream(ctx, http.MethodPost, "/add", q, nil, "", progress, &res)
	var ae *api.Error
	if err == nil || !errors.As(err, &ae) || (ae.Kind != api.KindPermission && ae.Kind != api.KindNotFound) {
		return res, err
	}
	node, err := dag.OpenPath(path, exclude)
	if err != nil {
		return api.AddResult{}, fmt.Errorf("add %s: %w", path, err)
	}
	defer node.Close()
	total, _ := node.Size() // for the progress bar only; 0 if unknown
	name := filepath.Base(filepath.Clean(path))
	return c.Add(ctx, name, node, total, opts, progress)
}

// Add streams one file or folder named name to the daemon.
func (c *Client) Add(ctx context.Context, name string, node files.Node, total int64, opts api.AddOptions, progress func(api.Event)) (api.AddResult, error) {
	dir := files.NewMapDirectory(map[string]files.Node{name: node})
	body := files.NewMultiFileReader(dir, true, false)
	q := addQuery(opts)
	if total > 0 {
		q.Set("total", strconv.FormatInt(total, 10))
	}
	var res api.AddResult
	err := c.stream(ctx, http.MethodPost, "/add", q, body, "multipart/form-data; boundary="+body.Boundary(), progress, &res)
	return res, err
}

func addQuery(opts api.AddOptions) url.Values {
	q := url.Values{}
	if opts.Name != "" {
		q.Set("name", opts.Name)
	}
	if opts.NoPin {
		q.Set("no_pin", "true")
	}
	if opts.Private {
		q.Set("private", "true")
	}
	for _, p := range opts.Exclude {
		q.Add("exclude", p)
	}
	return q
}
