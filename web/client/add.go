package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/web/api"
)

// AddPath adds the file or folder at path (folders only with recursive):
// AddPaths with one path.
func (c *Client) AddPath(ctx context.Context, path string, recursive bool, opts api.AddOptions, progress func(api.Event)) (api.AddResult, error) {
	return c.AddPaths(ctx, []string{path}, recursive, opts, progress)
}

// AddPaths adds the file or folder at one path or, with opts.Wrap, the
// files and folders at several as the entries of one new folder (folders
// only with recursive). The daemon reads them itself when it can; else
// they are streamed to it as multipart, the format of boxo/files.
func (c *Client) AddPaths(ctx context.Context, paths []string, recursive bool, opts api.AddOptions, progress func(api.Event)) (api.AddResult, error) {
	return c.addPaths(ctx, paths, recursive, opts, progress, true)
}

// AddPathByDaemon is AddPath for content the daemon must be able to read
// again later (a share that follows its folder): the daemon reads path
// itself, and when it cannot (not_found, permission) nothing is streamed
// and its refusal is returned.
func (c *Client) AddPathByDaemon(ctx context.Context, path string, recursive bool, opts api.AddOptions, progress func(api.Event)) (api.AddResult, error) {
	return c.addPaths(ctx, []string{path}, recursive, opts, progress, false)
}

// addPaths is AddPaths; stream says whether to send the bytes when the
// daemon cannot read the paths itself.
func (c *Client) addPaths(ctx context.Context, paths []string, recursive bool, opts api.AddOptions, progress func(api.Event), stream bool) (api.AddResult, error) {
	if len(paths) != 1 && opts.Wrap == "" {
		return api.AddResult{}, fmt.Errorf("add %d paths: one at a time, or wrapped in a folder: %w", len(paths), api.ErrInvalid)
	}
	exclude, err := dag.NewExclusion(opts.Exclude)
	if err != nil {
		return api.AddResult{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	abs := make([]string, len(paths))
	for i, path := range paths {
		if err := CheckAddPath(path, recursive); err != nil {
			return api.AddResult{}, err
		}
		if abs[i], err = filepath.Abs(path); err != nil {
			return api.AddResult{}, fmt.Errorf("add %s: %w", path, err)
		}
	}
	// The daemon usually runs as the same user on the same machine: let it
	// read the files itself, which spares streaming every byte through the
	// API. If it cannot read a path (another user, a container), stream.
	q := addQuery(opts)
	for _, p := range abs {
		q.Add("path", p)
	}
	if recursive {
		q.Set("recursive", "true")
	}
	var res api.AddResult
	err = c.stream(ctx, http.MethodPost, "/add", q, nil, "", progress, &res)
	var ae *api.Error
	if !stream || err == nil || !errors.As(err, &ae) || (ae.Kind != api.KindPermission && ae.Kind != api.KindNotFound) {
		return res, err
	}
	if opts.NoCopy {
		return res, fmt.Errorf("%w; without a copy the daemon must read the files itself (the same user, on this computer): add them without --nocopy", err)
	}
	// The daemon's repo is left out here too, as the daemon does.
	if c.repo != "" {
		exclude = exclude.WithoutFolder(c.repo)
		for _, p := range abs {
			if repo, ok := exclude.Within(p); ok {
				return api.AddResult{}, fmt.Errorf("add %s: %w", p, api.InRepo(repo))
			}
		}
	}
	var skipped dag.Skipped
	exclude = exclude.Reporting(&skipped)
	var unread dag.Unread
	if opts.SkipUnreadable {
		// What this process may not read is left out here; the daemon
		// imports what is streamed, all of it readable.
		exclude = exclude.LeavingUnreadable(&unread)
		opts.SkipUnreadable = false
	}
	node, name, err := dag.OpenAdd(abs, opts.Wrap, exclude)
	if err != nil {
		return api.AddResult{}, fmt.Errorf("add %s: %w", name, err)
	}
	defer node.Close()
	total, _ := node.Size() // for the progress bar only; 0 if unknown
	res, err = c.Add(ctx, name, node, total, opts, progress)
	res.Skipped, res.SkippedCount = api.SkippedOf(&skipped)
	res.Unreadable, res.UnreadableCount = api.UnreadOf(&unread)
	return res, err
}

// CheckAddPath fails, with the path, for what cannot be added (missing,
// unreadable, a folder without recursive, neither file nor folder),
// rather than half-way through the upload.
func CheckAddPath(path string, recursive bool) error {
	// A link named on the command line is followed (links inside a folder
	// are kept as links).
	st, err := os.Stat(path)
	if err != nil {
		if target, lerr := os.Readlink(path); lerr == nil {
			return fmt.Errorf("add %s: it is a symbolic link to %s, which cannot be read: %w", path, target, api.PathReason(err))
		}
		return fmt.Errorf("add %s: %w", path, api.PathReason(err))
	}
	if st.IsDir() && !recursive {
		return fmt.Errorf("add %s: it is a folder; use -r to add a folder: %w", path, api.ErrInvalid)
	}
	if !st.IsDir() && !st.Mode().IsRegular() {
		return fmt.Errorf("add %s: not a regular file or folder: %w", path, api.ErrInvalid)
	}
	if !st.IsDir() {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("add %s: %w", path, api.PathReason(err))
		}
		f.Close()
	}
	return nil
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
	rd := &bodyReader{r: body}
	err := c.stream(ctx, http.MethodPost, "/add", q, rd, "multipart/form-data; boundary="+body.Boundary(), progress, &res)
	if err != nil && rd.err != nil {
		// A file here could not be read (not the daemon's fault): say so.
		return res, fmt.Errorf("add %s: %w", name, api.Unreadable(rd.err, ""))
	}
	return res, err
}

// bodyReader keeps the error reading an upload's files gave, which the
// request then fails with, wrapped as a transport error.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
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
	if opts.Wrap != "" {
		q.Set("wrap", opts.Wrap)
	}
	if opts.NoCopy {
		q.Set("nocopy", "true")
	}
	if opts.SkipUnreadable {
		q.Set("skip_unreadable", "true")
	}
	return q
}

// AddPlan is what an add of one path would hold and leave out, read here
// as the daemon would read it (DryRunAdd).
type AddPlan struct {
	Path    string            `json:"path"`
	Files   int               `json:"files"`
	Folders int               `json:"folders"`
	Links   int               `json:"links"`
	Bytes   int64             `json:"bytes"`
	Left    []AddLeftOut      `json:"left_out"`
	Special []api.SkippedFile `json:"skipped,omitempty"`
	Repo    string            `json:"repo,omitempty"`
}

// AddLeftOut is one entry a pattern leaves out: its slash path from the
// top of what is added (a folder's ends in /) and the pattern.
type AddLeftOut struct {
	Path    string `json:"path"`
	Pattern string `json:"pattern"`
}

// DryRunAdd says what AddPaths of paths would add and leave out, without
// adding anything or asking the daemon (none needs to run): each path's
// files, folders and bytes, and what the patterns (opts.Exclude, a
// folder's .kithignore), kith's repo (the folder repo, if not "") and the
// special files leave out. Each path is checked as AddPaths checks it.
func DryRunAdd(repo string, paths []string, recursive bool, opts api.AddOptions) ([]AddPlan, error) {
	exclude, err := dag.NewExclusion(opts.Exclude)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	if repo != "" {
		exclude = exclude.WithoutFolder(repo)
	}
	var out []AddPlan
	for _, path := range paths {
		if err := CheckAddPath(path, recursive); err != nil {
			return nil, err
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("add %s: %w", path, err)
		}
		if repo, ok := exclude.Within(abs); ok {
			return nil, fmt.Errorf("add %s: %w", path, api.InRepo(repo))
		}
		var plan dag.Plan
		if opts.Wrap != "" {
			plan, err = dag.DryRunWrapped(abs, exclude)
		} else {
			plan, err = dag.DryRun(abs, exclude)
		}
		if err != nil {
			if errors.Is(err, dag.ErrBadPattern) {
				err = fmt.Errorf("%w: %w", err, api.ErrInvalid)
			}
			return nil, fmt.Errorf("add %s: %w", path, err)
		}
		p := AddPlan{Path: abs, Files: plan.Files, Folders: plan.Folders, Links: plan.Links, Bytes: plan.Bytes, Left: []AddLeftOut{}, Repo: plan.Repo}
		for _, l := range plan.Left {
			p.Left = append(p.Left, AddLeftOut{Path: l.Path, Pattern: l.Pattern})
		}
		for _, s := range plan.Special {
			p.Special = append(p.Special, api.SkippedFile{Path: s.Path, Kind: s.Kind})
		}
		out = append(out, p)
	}
	return out, nil
}
