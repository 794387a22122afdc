package web

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/kith-p2p/kith/blockstore"
	"github.com/kith-p2p/kith/web/api"
)

// gatewayPolicy sandboxes everything the gateway serves. Shared content is
// untrusted: without the sandbox, shared HTML or SVG would run with the UI's
// origin, read the page's session from its storage and drive the API with
// it. "sandbox" with no allow-same-origin gives the document an opaque
// origin (no access to the UI's storage, and its requests carry Origin:
// null, which the guard refuses) and, with no allow-scripts, runs none of
// its scripts at all.
//
// PDFs need no narrower policy: Chromium renders them under this one, in a
// tab or in a frame (web/ui/pdf_test.go checks it). It does so by leaving
// the document that holds its viewer out of the sandbox (that document
// keeps this origin), but that document is the browser's own, with no
// script from the file: a PDF's scripts run inside the viewer, apart from
// the page. Only a frame's sandbox attribute keeps the viewer out, so the
// Open page frames PDFs without one. HTML, SVG, XML and everything else
// stay fully sandboxed.
const gatewayPolicy = "sandbox"

// setGatewayHeaders sets the headers every gateway answer carries.
func setGatewayHeaders(h http.Header) {
	h.Set("Content-Security-Policy", gatewayPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	// Other sites may link to content (a navigation is fine) but not embed
	// it, which would let them probe what this repo holds.
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Referrer-Policy", "no-referrer")
}

// handleGateway serves /ipfs/CID[/path]: files with Range support (for
// seeking in audio and video), folders as a plain HTML listing. It reads
// the local repo only; content not in it is a 404, never a network fetch.
// Query parameters: filename= names the file (its extension picks the
// content type), download=true makes it an attachment (a folder then comes
// as a tar archive, as with format=tar).
func (s *Server) handleGateway(w http.ResponseWriter, r *http.Request) {
	setGatewayHeaders(w.Header())
	gw, ok := s.backend.(api.Gateway)
	if !ok {
		gatewayError(w, http.StatusNotImplemented, "This daemon does not serve content to browsers.")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/ipfs/")
	cidStr, sub, _ := strings.Cut(rest, "/")
	root, err := cid.Decode(cidStr)
	if err != nil {
		gatewayError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a valid CID.", cidStr))
		return
	}
	e, err := gw.Resolve(r.Context(), root, sub)
	if err != nil {
		if errors.Is(err, blockstore.ErrNotFound) {
			gatewayError(w, http.StatusNotFound, "This content is not in this node's repo: fetch it first (Get page or kith pin add).")
			return
		}
		gatewayError(w, http.StatusInternalServerError, "Reading this content failed: "+err.Error())
		return
	}
	q := r.URL.Query()
	name := q.Get("filename")
	if name == "" && sub != "" {
		name = path.Base(sub)
	}
	if e.Type == "dir" {
		if q.Get("format") == "tar" || q.Get("download") == "true" {
			s.serveTar(w, r, gw, e, name)
			return
		}
		// Relative links in the listing need the trailing slash.
		if !strings.HasSuffix(r.URL.Path, "/") {
			http.Redirect(w, r, r.URL.EscapedPath()+"/", http.StatusMovedPermanently)
			return
		}
		s.serveListing(w, r, e, root, sub)
		return
	}
	rs, _, err := gw.Open(r.Context(), mustCid(e.Cid))
	if err != nil {
		gatewayError(w, http.StatusInternalServerError, "Opening this file failed: "+err.Error())
		return
	}
	defer rs.Close()
	ctype, err := contentType(name, rs)
	if err != nil {
		gatewayError(w, http.StatusInternalServerError, "Reading this file failed: "+err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	// The same CID is always the same bytes.
	h.Set("Etag", `"`+e.Cid+`"`)
	h.Set("Cache-Control", "public, max-age=29030400, immutable")
	if q.Get("download") == "true" {
		h.Set("Content-Disposition", attachment(name, e.Cid))
	}
	http.ServeContent(w, r, "", time.Time{}, rs)
}

// contentType picks a file's type by its name's extension, else by
// sniffing its first bytes (then rewinds).
func contentType(name string, rs io.ReadSeeker) (string, error) {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t, nil
	}
	buf := make([]byte, 512)
	n, err := io.ReadFull(rs, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return http.DetectContentType(buf[:n]), nil
}

// attachment is a Content-Disposition that saves the file under name.
func attachment(name, fallback string) string {
	if name == "" {
		name = fallback
	}
	return "attachment; filename*=UTF-8''" + url.PathEscape(name)
}

func mustCid(s string) cid.Cid {
	c, _ := cid.Decode(s) // the backend hands back CIDs it decoded itself
	return c
}

func gatewayError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

var listingTmpl = template.Must(template.New("listing").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="light dark">
<title>{{.Title}}</title></head>
<body style="font-family: system-ui, sans-serif; margin: 2em">
<h1 style="font-size: 1.2em; word-break: break-all">{{.Title}}</h1>
<table style="border-collapse: collapse">
<thead><tr><th style="text-align: left; padding: .2em 1em .2em 0">Name</th><th style="text-align: right; padding: .2em 1em">Size</th><th style="text-align: left">CID</th></tr></thead>
<tbody>
{{if .Parent}}<tr><td><a href="../">..</a></td><td></td><td></td></tr>{{end}}
{{range .Entries}}<tr><td style="padding: .2em 1em .2em 0"><a href="{{.Href}}">{{.Name}}{{if eq .Type "dir"}}/{{end}}</a></td><td style="text-align: right; padding: .2em 1em">{{.Size}}</td><td style="font-family: monospace">{{.Cid}}</td></tr>
{{end}}</tbody></table></body></html>
`))

type listingEntry struct {
	api.Entry
	Href string
}

// serveListing writes a folder as a simple HTML page of relative links.
func (s *Server) serveListing(w http.ResponseWriter, r *http.Request, e api.Entry, root cid.Cid, sub string) {
	entries, err := s.backend.Ls(r.Context(), mustCid(e.Cid))
	if err != nil {
		gatewayError(w, http.StatusInternalServerError, "Listing this folder failed: "+err.Error())
		return
	}
	out := make([]listingEntry, len(entries))
	for i, en := range entries {
		href := url.PathEscape(en.Name)
		if en.Type == "dir" {
			href += "/"
		}
		out[i] = listingEntry{Entry: en, Href: href}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=29030400, immutable")
	title := "/ipfs/" + root.String()
	if sub = strings.Trim(sub, "/"); sub != "" {
		title += "/" + sub
	}
	_ = listingTmpl.Execute(w, map[string]any{"Title": title, "Parent": sub != "", "Entries": out})
}
