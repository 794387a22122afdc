package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kith-p2p/kith/blockstore/dag"
	"github.com/kith-p2p/kith/protocol/ticket"
	"github.com/kith-p2p/kith/web/api"
)

// Server is the daemon's local HTTP API.
type Server struct {
	backend api.Backend
	token   string
	http    *http.Server
	ln      net.Listener
	// cancel ends the context of every running request, so shutting down
	// stops in-flight work (an add, a gc) instead of waiting for it.
	cancel context.CancelFunc

	metrics     prometheus.Gatherer
	openMetrics bool
	idleTimeout time.Duration
	// sessions signs the web UI's page in; pins announces pin changes to
	// event streams, and stopWatch ends the server's job watch.
	sessions  *sessions
	pins      *changes
	stopWatch func()

	// inFlight counts the requests being answered, and lastDone is when
	// the last one ended (unix nanoseconds): Idle.
	inFlight atomic.Int64
	lastDone atomic.Int64
}

// Idle is how long no request has been answered: 0 while one is.
func (s *Server) Idle() time.Duration {
	if s.inFlight.Load() > 0 {
		return 0
	}
	return time.Since(time.Unix(0, s.lastDone.Load()))
}

// counted has s count h's requests (Idle).
func (s *Server) counted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inFlight.Add(1)
		defer func() {
			s.lastDone.Store(time.Now().UnixNano())
			s.inFlight.Add(-1)
		}()
		h.ServeHTTP(w, r)
	})
}

// Option configures the server.
type Option func(*Server)

// WithOpenMetrics serves /metrics without the token (the Host and Origin
// checks still apply), for a local Prometheus that cannot send one.
func WithOpenMetrics() Option {
	return func(s *Server) { s.openMetrics = true }
}

// WithIdleTimeout sets how long a kept-alive API connection may sit idle
// (default 60 s), so idle clients cannot hold connections open forever.
func WithIdleTimeout(d time.Duration) Option {
	return func(s *Server) { s.idleTimeout = d }
}

// WithMetrics serves the registry's metrics at /metrics in the Prometheus
// text format. The route needs no token (scrapers rarely carry one) but is
// still held to the Host and Origin checks; it reveals counters only.
func WithMetrics(g prometheus.Gatherer) Option {
	return func(s *Server) { s.metrics = g }
}

// Listen binds the API to addr (host:port; the host must be a loopback
// address) and prepares the server. Serve starts answering.
func Listen(addr string, backend api.Backend, token string, opts ...Option) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("api address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("api address %q: the API only listens on a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("the API address %s is in use (another kith daemon, or another program): choose another with `kith config set api.address 127.0.0.1:PORT`, or run `kith daemon --api 127.0.0.1:PORT` for this run only", addr)
		}
		return nil, fmt.Errorf("listen on %s for the API: %w", addr, err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	base, cancel := context.WithCancel(context.Background())
	s := &Server{backend: backend, token: token, ln: ln, cancel: cancel, sessions: newSessions(), pins: newChanges(), idleTimeout: defaultIdleTimeout}
	s.lastDone.Store(time.Now().UnixNano())
	for _, o := range opts {
		o(s)
	}
	s.stopWatch = s.watchJobPins()
	gw := s.gateway(port)
	g := &guard{port: port, token: token, sessions: s.sessions, signIn: http.HandlerFunc(s.handleSignIn),
		public: s.publicRoutes(port, gw), isPublic: isPublicPath, gateway: gw}
	mux := s.routes()
	if s.metrics != nil {
		h := promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{})
		if s.openMetrics {
			g.open = map[string]http.Handler{"/metrics": h}
		} else {
			mux.Handle("GET /metrics", h)
		}
	}
	s.http = &http.Server{
		Handler:           s.counted(g.wrap(mux)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       s.idleTimeout,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	return s, nil
}

// defaultIdleTimeout closes kept-alive API connections idle this long.
const defaultIdleTimeout = 60 * time.Second

// Addr is the address the API listens on, e.g. 127.0.0.1:5080.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve answers requests until Shutdown; it returns nil after a clean shutdown.
func (s *Server) Serve() error {
	if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting requests, cancels the running ones and waits for
// them to return until ctx ends, then closes their connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopWatch()
	s.cancel()
	err := s.http.Shutdown(ctx)
	if err != nil {
		_ = s.http.Close()
	}
	return err
}

// routeMux is an http.ServeMux that remembers the patterns registered on
// it, so that a test holds docs/api.md to them.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

func (s *Server) routes() *routeMux {
	m := &routeMux{ServeMux: http.NewServeMux()}
	p := api.Prefix
	m.HandleFunc("GET "+p+"/id", s.handleID)
	m.HandleFunc("POST "+p+"/add", s.changingPins(s.handleAdd))
	m.HandleFunc("POST "+p+"/get", s.handleGet)
	m.HandleFunc("GET "+p+"/cat", s.handleCat)
	m.HandleFunc("GET "+p+"/ls", s.handleLs)
	m.HandleFunc("GET "+p+"/stat", s.handleStat)
	m.HandleFunc("GET "+p+"/pin/ls", s.handlePins)
	m.HandleFunc("POST "+p+"/pin/add", s.changingPins(s.handlePinAdd))
	m.HandleFunc("POST "+p+"/pin/rm", s.changingPins(s.handlePinRm))
	m.HandleFunc("POST "+p+"/gc", s.handleGC)
	m.HandleFunc("GET "+p+"/repo/stat", s.handleRepoStat)
	m.HandleFunc("POST "+p+"/repo/verify", s.handleVerify)
	m.HandleFunc("GET "+p+"/export", s.handleExport)
	m.HandleFunc("POST "+p+"/import", s.changingPins(s.handleImport))
	m.HandleFunc("POST "+p+"/shutdown", s.handleShutdown)
	m.HandleFunc("POST "+p+"/hold", s.handleHold)
	m.HandleFunc("POST "+p+"/codes", s.handleOpenCode)
	m.HandleFunc("POST "+p+"/codes/resolve", s.handleResolveCode)
	m.HandleFunc("POST "+p+"/names/publish", s.namesRoute(s.publishName))
	m.HandleFunc("GET "+p+"/names/self", s.namesRoute(ownName))
	m.HandleFunc("GET "+p+"/names/resolve", s.namesRoute(resolveName))
	m.HandleFunc("GET "+p+"/names/keys", s.namesRoute(nameKeys))
	m.HandleFunc("POST "+p+"/names/keys/new", s.namesRoute(newNameKey))
	m.HandleFunc("POST "+p+"/names/keys/import", s.namesRoute(importNameKey))
	m.HandleFunc("POST "+p+"/names/keys/rename", s.namesRoute(renameNameKey))
	m.HandleFunc("POST "+p+"/names/keys/rm", s.namesRoute(removeNameKey))
	m.HandleFunc("POST "+p+"/config/apply", s.handleApplyConfig)
	m.HandleFunc("GET "+p+"/config", s.handleSettings)
	m.HandleFunc("POST "+p+"/config/set", s.handleSetSetting)
	m.HandleFunc("GET "+p+"/peers", s.handlePeers)
	m.HandleFunc("POST "+p+"/connect", s.handleConnect)
	m.HandleFunc("GET "+p+"/dht/findprovs", s.handleFindProvs)
	m.HandleFunc("GET "+p+"/dht/findpeer", s.handleFindPeer)
	m.HandleFunc("GET "+p+"/doctor", s.handleDoctor)
	m.HandleFunc("GET "+p+"/ticket", s.handleTicket)
	s.groupRoutes(m, p)
	// For the web UI: background jobs, uploads to peers, the live event
	// stream, sign-in.
	m.HandleFunc("POST "+p+"/jobs/fetch", s.handleJobFetch)
	m.HandleFunc("GET "+p+"/jobs", s.handleJobs)
	m.HandleFunc("POST "+p+"/jobs/cancel", s.jobAction(api.Jobs.CancelJob))
	m.HandleFunc("POST "+p+"/jobs/pause", s.jobAction(api.Jobs.PauseJob))
	m.HandleFunc("POST "+p+"/jobs/resume", s.jobAction(api.Jobs.ResumeJob))
	m.HandleFunc("GET "+p+"/uploads", s.handleUploads)
	m.HandleFunc("GET "+p+"/events", s.handleEvents)
	m.HandleFunc("POST "+p+"/ui/login", s.handleLoginCode)
	m.HandleFunc("GET "+p+"/ui/login/wait", s.handleLoginWait)
	m.HandleFunc("POST "+p+"/ui/revoke", s.handleRevoke)
	// Go's profiler, behind the token like everything else: for diagnosing
	// a slow or stuck daemon (go tool pprof with an Authorization header).
	m.HandleFunc("GET /debug/pprof/", pprof.Index)
	m.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	m.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	m.HandleFunc(p+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &api.Error{Kind: api.KindNotFound, Message: fmt.Sprintf("no API route %s %s", r.Method, r.URL.Path)})
	})
	return m
}

// publicRoutes serves what needs no credentials (see isPublicPath).
func (s *Server) publicRoutes(port string, gw http.Handler) *http.ServeMux {
	m := http.NewServeMux()
	ui := uiHandler(port)
	m.Handle("GET /{$}", forgetOldCookie(port, ui))
	m.Handle("GET /favicon.ico", ui)
	m.Handle("GET /ui/", ui)
	m.Handle("GET /ipfs/", gw)
	m.Handle("GET /ipns/", gw)
	return m
}

// gateway is the content gateway (gateway.go), or a refusal when the
// backend serves no content to browsers.
func (s *Server) gateway(port string) http.Handler {
	gw, ok := s.backend.(api.Gateway)
	if !ok {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, &api.Error{Kind: api.KindNotFound, Message: "this daemon does not serve content to browsers"})
		})
	}
	reg, _ := s.metrics.(prometheus.Registerer)
	return newGateway(gw, port, reg)
}

// cidParam parses the "cid" query parameter: a CID, or a share ticket
// (whose peers the backend connects to first).
func (s *Server) cidParam(r *http.Request) (cid.Cid, error) {
	v := r.URL.Query().Get("cid")
	if v == "" {
		return cid.Undef, fmt.Errorf("missing cid parameter: %w", api.ErrInvalid)
	}
	return s.backend.ResolveRef(r.Context(), v)
}

// nameParam is the "name" query parameter, else the last name of the
// "cid" parameter's path (CID/a/photo.jpg: photo.jpg), else the name its
// ticket carries ("" for a CID).
func nameParam(r *http.Request) string {
	q := r.URL.Query()
	if name := q.Get("name"); name != "" {
		return name
	}
	root, names, err := dag.SplitPath(q.Get("cid"))
	if err != nil {
		return ""
	}
	if len(names) > 0 {
		return ticket.CleanName(names[len(names)-1])
	}
	if t, err := ticket.Parse(root); err == nil {
		return t.Name
	}
	if name, ok := dag.IsName(root); ok {
		return ticket.CleanName(name)
	}
	return ""
}

func int64Param(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parameter %s=%q is not a number: %w", name, s, api.ErrInvalid)
	}
	return v, nil
}

func (s *Server) handleID(w http.ResponseWriter, r *http.Request) {
	id, err := s.backend.ID(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, id)
}

// handleAdd takes either a path the daemon reads itself (?path=, for a CLI
// on the same machine) or a multipart body in the format of boxo/files (the
// same as Kubo's API): one top-level file or folder whose parts stream
// through.
func (s *Server) handleAdd(w http.ResponseWriter, r *http.Request) {
	defer closeDuplexBody(r)
	q := r.URL.Query()
	opts := api.AddOptions{Name: q.Get("name"), NoPin: q.Get("no_pin") == "true", Recursive: q.Get("recursive") == "true", Private: q.Get("private") == "true", Exclude: q["exclude"], Wrap: q.Get("wrap"), NoCopy: q.Get("nocopy") == "true", SkipUnreadable: q.Get("skip_unreadable") == "true"}
	if paths := q["path"]; len(paths) > 0 {
		st := newEventStream(w)
		res, err := s.backend.AddPaths(r.Context(), paths, opts, st.progress)
		st.finish(res, err)
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		writeError(w, fmt.Errorf("add expects a multipart/form-data body: %w", api.ErrInvalid))
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, fmt.Errorf("read add body: %w", api.ErrInvalid))
		return
	}
	dir, err := files.NewFileFromPartReader(mr, mt)
	if err != nil {
		writeError(w, fmt.Errorf("read add body: %w", api.ErrInvalid))
		return
	}
	it := dir.Entries()
	if !it.Next() {
		err := it.Err()
		if err == nil {
			err = errors.New("no file in the request")
		}
		writeError(w, fmt.Errorf("read add body: %v: %w", err, api.ErrInvalid))
		return
	}
	total, _ := int64Param(r, "total", 0)
	st := newEventStream(w)
	res, err := s.backend.Add(r.Context(), it.Name(), it.Node(), opts, func(p api.Progress) {
		if p.Total == 0 {
			p.Total = total
		}
		st.progress(p)
	})
	st.finish(res, err)
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	ref := r.URL.Query().Get("cid") // Get resolves it: the share a path leads into gives its modes and times
	if ref == "" {
		writeError(w, fmt.Errorf("missing cid parameter: %w", api.ErrInvalid))
		return
	}
	out := r.URL.Query().Get("out")
	if out == "" {
		writeError(w, fmt.Errorf("missing out parameter: %w", api.ErrInvalid))
		return
	}
	st := newEventStream(w)
	res, err := s.backend.Get(r.Context(), ref, out, r.URL.Query()["exclude"], st.progress)
	st.finish(res, err)
}

func (s *Server) handleCat(w http.ResponseWriter, r *http.Request) {
	c, err := s.cidParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	offset, err := int64Param(r, "offset", 0)
	if err != nil {
		writeError(w, err)
		return
	}
	length, err := int64Param(r, "length", -1)
	if err != nil {
		writeError(w, err)
		return
	}
	rc, err := s.backend.Cat(r.Context(), c, offset, length)
	if err != nil {
		writeError(w, err)
		return
	}
	defer rc.Close()
	// Read the first chunk before answering, so a file whose first block
	// is missing is a clean error, not an empty success.
	buf := make([]byte, 64<<10)
	n, err := io.ReadFull(rc, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		writeError(w, fmt.Errorf("cat %s: %w", c, err))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if _, werr := w.Write(buf[:n]); werr != nil || err != nil {
		return // the client left, or that was all
	}
	if _, err := io.Copy(w, rc); err != nil && r.Context().Err() == nil {
		// Headers are gone: cut the connection so the client sees a
		// failure instead of a short file it could take for the whole.
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) handleLs(w http.ResponseWriter, r *http.Request) {
	c, err := s.cidParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	ls := s.backend.Ls
	if gw, ok := s.backend.(api.Gateway); ok && r.URL.Query().Get("peers") == "true" {
		ls = gw.BrowseLs
	}
	entries, err := ls(r.Context(), c)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, entries)
}

func (s *Server) handleStat(w http.ResponseWriter, r *http.Request) {
	c, err := s.cidParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	stat := s.backend.Stat
	if gw, ok := s.backend.(api.Gateway); ok && r.URL.Query().Get("peers") == "true" {
		stat = gw.BrowseStat
	}
	e, err := stat(r.Context(), c)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, e)
}

func (s *Server) handlePins(w http.ResponseWriter, r *http.Request) {
	pins, err := s.backend.Pins(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, pins)
}

func (s *Server) handlePinAdd(w http.ResponseWriter, r *http.Request) {
	c, err := s.cidParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	opts := api.PinOptions{Name: nameParam(r)}
	switch r.URL.Query().Get("private") {
	case "true":
		opts.Private = new(true)
	case "false":
		opts.Private = new(false)
	case "":
	default:
		writeError(w, fmt.Errorf("private must be true or false: %w", api.ErrInvalid))
		return
	}
	st := newEventStream(w)
	res, err := s.backend.PinAdd(r.Context(), c, opts, st.progress)
	st.finish(res, err)
}

func (s *Server) handlePinRm(w http.ResponseWriter, r *http.Request) {
	c, err := s.cidParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.backend.PinRm(r.Context(), c); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, map[string]string{"cid": c.String()})
}

func (s *Server) handleGC(w http.ResponseWriter, r *http.Request) {
	st := newEventStream(w)
	res, err := s.backend.GC(r.Context(), st.progress)
	st.finish(res, err)
}

func (s *Server) handleRepoStat(w http.ResponseWriter, r *http.Request) {
	res, err := s.backend.RepoStat(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, res)
}

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	st := newEventStream(w)
	res, err := s.backend.Verify(r.Context(), st.progress)
	st.finish(res, err)
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	c, err := s.cidParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	// Check the root first so a miss is a clean 404 rather than a cut stream.
	if _, err := s.backend.Stat(r.Context(), c); err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.ipld.car; version=1")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := s.backend.ExportCAR(r.Context(), c, w); err != nil {
		// Headers are gone; cut the connection so the client sees a failure
		// instead of a short CAR it could mistake for a whole one.
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	defer closeDuplexBody(r)
	st := newEventStream(w)
	q := r.URL.Query()
	opts := api.ImportOptions{AllowPartial: q.Get("allow_partial") == "true", Name: q.Get("name")}
	res, err := s.backend.ImportCAR(r.Context(), r.Body, opts, st.progress)
	st.finish(res, err)
}

func (s *Server) handleApplyConfig(w http.ResponseWriter, r *http.Request) {
	res, err := s.backend.ApplyConfig(r.Context(), r.URL.Query().Get("key"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, res)
}

func (s *Server) handleSettings(w http.ResponseWriter, r *http.Request) {
	res, err := s.backend.Settings(r.Context(), r.URL.Query()["key"])
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, res)
}

func (s *Server) handleSetSetting(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("key") == "" {
		writeError(w, fmt.Errorf("missing key parameter (a setting, as kith config names it): %w", api.ErrInvalid))
		return
	}
	if !q.Has("value") {
		writeError(w, fmt.Errorf("missing value parameter: %w", api.ErrInvalid))
		return
	}
	res, err := s.backend.SetSetting(r.Context(), q.Get("key"), q.Get("value"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, res)
}

func (s *Server) handleShutdown(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]string{"status": "shutting down"})
	s.backend.Shutdown()
}

// handleHold answers at once with its headers, then keeps the request
// open, sending nothing, until the client goes or the daemon stops. While
// it is open the API is not idle (Idle), so a daemon started for another
// command (kith get, with none running) does not stop when that command
// ends: the command that found it running and holds it is not cut off
// between two of its requests.
func (s *Server) handleHold(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	<-r.Context().Done()
}
