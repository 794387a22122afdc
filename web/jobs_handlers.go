package web

import (
	"fmt"
	"net/http"

	"github.com/kith-p2p/kith/web/api"
)

// jobsBackend returns the backend's job runner, or writes why there is none.
func (s *Server) jobsBackend(w http.ResponseWriter) (api.Jobs, bool) {
	j, ok := s.backend.(api.Jobs)
	if !ok {
		writeError(w, &api.Error{Kind: api.KindUnavailable, Message: "this daemon does not run background jobs"})
	}
	return j, ok
}

// handleJobFetch starts a background fetch-and-pin and answers the job at
// once; progress comes on the event stream and from GET /jobs.
func (s *Server) handleJobFetch(w http.ResponseWriter, r *http.Request) {
	jobs, ok := s.jobsBackend(w)
	if !ok {
		return
	}
	c, err := s.cidParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	j, err := jobs.StartFetch(c, nameParam(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, j)
}

func (s *Server) handleJobs(w http.ResponseWriter, r *http.Request) {
	jobs, ok := s.jobsBackend(w)
	if !ok {
		return
	}
	writeJSON(w, jobs.Jobs())
}

// jobAction serves the routes that act on one job named by ?id=:
// cancel, pause, resume.
func (s *Server) jobAction(act func(api.Jobs, string) (api.Job, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		jobs, ok := s.jobsBackend(w)
		if !ok {
			return
		}
		id := r.URL.Query().Get("id")
		if id == "" {
			writeError(w, fmt.Errorf("missing id parameter: %w", api.ErrInvalid))
			return
		}
		j, err := act(jobs, id)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, j)
	}
}
