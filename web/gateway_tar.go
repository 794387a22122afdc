package web

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/kith-p2p/kith/web/api"
)

// serveTar streams folder e as a tar archive, so a browser can download a
// whole folder as one file.
func (s *Server) serveTar(w http.ResponseWriter, r *http.Request, gw api.Gateway, e api.Entry, name string) {
	if name == "" {
		name = e.Cid
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("Content-Disposition", attachment(name+".tar", e.Cid))
	tw := tar.NewWriter(w)
	if err := s.tarDir(r.Context(), tw, gw, e, name); err != nil {
		// Headers are gone; cut the connection so the browser reports a
		// failed download instead of saving a short archive.
		panic(http.ErrAbortHandler)
	}
	if err := tw.Close(); err != nil {
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) tarDir(ctx context.Context, tw *tar.Writer, gw api.Gateway, dir api.Entry, at string) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: at + "/", Mode: 0o755}); err != nil {
		return err
	}
	entries, err := s.backend.Ls(ctx, mustCid(dir.Cid))
	if err != nil {
		return err
	}
	for _, en := range entries {
		// Names come from whoever built the DAG: never let one climb out
		// of the archive's folder when it is unpacked.
		if en.Name == "" || en.Name == "." || en.Name == ".." || strings.ContainsAny(en.Name, "/\\\x00") {
			return fmt.Errorf("tar %s: unsafe entry name %q", at, en.Name)
		}
		p := path.Join(at, en.Name)
		if en.Type == "dir" {
			if err := s.tarDir(ctx, tw, gw, en, p); err != nil {
				return err
			}
			continue
		}
		if err := tarFile(ctx, tw, gw, en, p); err != nil {
			return err
		}
	}
	return nil
}

func tarFile(ctx context.Context, tw *tar.Writer, gw api.Gateway, en api.Entry, p string) error {
	rs, size, err := gw.Open(ctx, mustCid(en.Cid))
	if err != nil {
		return err
	}
	defer rs.Close()
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: 0o644, Size: int64(size)}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, rs); err != nil {
		return fmt.Errorf("tar %s: %w", p, err)
	}
	return nil
}
