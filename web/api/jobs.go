package api

import (
	"context"
	"time"

	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/go-cid"
)

// Job states: a job is running until it ends done, failed or canceled. A
// running job may be paused, and a paused one resumed (running again) or
// canceled; a paused job keeps what it fetched and stays paused across
// daemon restarts.
const (
	JobRunning  = "running"
	JobPaused   = "paused"
	JobDone     = "done"
	JobFailed   = "failed"
	JobCanceled = "canceled"
)

// Job is a fetch-and-pin the daemon runs in the background, independent of
// the request that started it: a browser tab can reload, or close, and the
// transfer goes on. A job still running when the daemon stops is started
// again, under the same ID, when it starts.
type Job struct {
	ID    string `json:"id"`
	Cid   string `json:"cid"`
	Name  string `json:"name,omitempty"`
	State string `json:"state"`
	// Phase is "searching" until the first block arrives, then "fetching".
	// A job the daemon resumed after a restart is "waiting" while no peer
	// has the content: it tries again when peers connect.
	Phase string `json:"phase,omitempty"`
	// Bytes present so far of Total (estimated from the root; 0 until known).
	Bytes int64 `json:"bytes"`
	Total int64 `json:"total"`
	// Have is the part of Bytes that was already here when the fetch last
	// (re)started: a resumed job's progress starts from it.
	Have int64 `json:"have,omitempty"`
	// Peers serving right now, and the receive Rate in bytes per second.
	Peers int     `json:"peers"`
	Rate  float64 `json:"rate"`
	// Size is the content size once the job is done.
	Size uint64 `json:"size,omitempty"`
	// Error is the failure as the daemon saw it; Reason says in plain words
	// why nothing could be fetched, from Connected (peers connected when it
	// failed) and Providers (how many the DHT named).
	Error     string     `json:"error,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	Connected int        `json:"connected"`
	Providers int        `json:"providers"`
	Started   time.Time  `json:"started"`
	Finished  *time.Time `json:"finished,omitempty"`
}

// Jobs is implemented by backends that run fetches in the background
// (package node does). The web server serves the /jobs routes only when its
// backend implements it.
type Jobs interface {
	// StartFetch starts fetching and pinning c under name and returns at
	// once; a running job for the same CID is returned instead of a second
	// one, and a paused one is resumed.
	StartFetch(c cid.Cid, name string) (Job, error)
	// Jobs lists running jobs and recently finished ones, newest first.
	Jobs() []Job
	// CancelJob stops a running or paused job; the job reports JobCanceled
	// when it has stopped. An unknown id is a KindNotFound error.
	CancelJob(id string) (Job, error)
	// PauseJob stops a running job's fetch and keeps the job, JobPaused,
	// with what it fetched; it returns once the fetch has stopped. A job
	// that is not running is a KindConflict error.
	PauseJob(id string) (Job, error)
	// ResumeJob starts a paused job's fetch again, from the blocks already
	// here. A job that is not paused is a KindConflict error.
	ResumeJob(id string) (Job, error)
	// WatchJobs calls fn with a job's new state whenever it changes (at most
	// a few times a second per job while it progresses) until stop is
	// called. fn must return quickly and must not call back into Jobs.
	WatchJobs(fn func(Job)) (stop func())
}

// Stats is a snapshot of what the node is doing, sent every second on the
// event stream.
type Stats struct {
	// TotalIn and TotalOut are the bytes received and sent over libp2p since
	// the daemon started; RateIn and RateOut their recent rates (bytes/s).
	TotalIn  int64   `json:"total_in"`
	TotalOut int64   `json:"total_out"`
	RateIn   float64 `json:"rate_in"`
	RateOut  float64 `json:"rate_out"`
	// Peers is the number of connected peers.
	Peers int `json:"peers"`
	// DiskUsage is what the repo's block store takes on disk; DiskFree
	// what adds and fetches may still use there (-1: not known).
	DiskUsage int64     `json:"disk_usage"`
	DiskFree  int64     `json:"disk_free"`
	Time      time.Time `json:"time"`
	// DownloadLimit and UploadLimit are the caps in force (bytes/s,
	// fetch.download_limit and fetch.upload_limit; 0: none).
	DownloadLimit int64 `json:"download_limit,omitempty"`
	UploadLimit   int64 `json:"upload_limit,omitempty"`
}

// StatsSource is implemented by backends that report live statistics.
type StatsSource interface {
	Stats(ctx context.Context) (Stats, error)
	// StatsHistory is the traffic of the last two minutes, one sample a
	// second, oldest first (without disk usage), for a chart that shows
	// what happened before the page opened.
	StatsHistory() []Stats
}

// Gateway is implemented by backends whose content the web server serves
// to browsers, at /ipfs/CID[/path] and on CID.ipfs.localhost, and by name
// (/ipns/NAME, NAME.ipns.localhost: GatewayBackend looks names up). Content that
// is not in the repo is fetched from peers, only the blocks a request
// reads, verified, and kept unpinned: a cache that gc empties.
type Gateway interface {
	// GatewayBackend is what boxo's gateway handler serves.
	GatewayBackend() gateway.IPFSBackend
	// Resolve walks path (slash-separated names, may be empty) from root
	// through folders and describes what it names. A miss matches
	// blockstore.ErrNotFound.
	Resolve(ctx context.Context, root cid.Cid, path string) (Entry, error)
	// BrowseStat and BrowseLs are Stat and Ls for content that may be
	// held only by peers: what is not in the repo is described from the
	// few blocks that say what it is (a folder's size is then the size of
	// its blocks, as Ls gives for sub-folders).
	BrowseStat(ctx context.Context, c cid.Cid) (Entry, error)
	BrowseLs(ctx context.Context, c cid.Cid) ([]Entry, error)
}
