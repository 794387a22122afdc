package api

import (
	"encoding/json"
	"time"

	"github.com/kith-p2p/kith/blockstore/dag"
)

// Prefix is the path every API route starts with.
const Prefix = "/api/v1"

// TokenHeader carries the API token; clients send "Authorization: Bearer TOKEN".
const TokenHeader = "Authorization"

// Event is one line of a streamed response.
type Event struct {
	// Type is "progress", "done" or "error".
	Type string `json:"type"`
	// Phase names the step a progress event belongs to (e.g. "mark", "sweep").
	Phase string `json:"phase,omitempty"`
	// Bytes done so far and Total expected (0 when unknown).
	Bytes int64 `json:"bytes,omitempty"`
	Total int64 `json:"total,omitempty"`
	// Count of items done so far (blocks, files), when that is what progresses.
	Count int64 `json:"count,omitempty"`
	// Peers serving a transfer, and its Rate in bytes per second.
	Peers int     `json:"peers,omitempty"`
	Rate  float64 `json:"rate,omitempty"`
	// Have is the part of Bytes that was already in the repo when a fetch
	// began (a get or pin add resuming).
	Have int64 `json:"have,omitempty"`
	// Until is, on a "waiting" event (a fetch whose peers went away), when
	// it gives up unless a peer that has the rest turns up.
	Until time.Time `json:"until,omitzero"`
	// Result is the operation's result on a "done" event.
	Result json.RawMessage `json:"result,omitempty"`
	// Error is the failure on an "error" event, with its Kind.
	Error string `json:"error,omitempty"`
	Kind  Kind   `json:"kind,omitempty"`
}

// Progress is what a long operation reports while it runs.
type Progress struct {
	Phase string
	Bytes int64
	Total int64
	Count int64
	Peers int
	Rate  float64   // bytes per second, when the operation measures it
	Have  int64     // of Bytes, what was already here when a fetch began
	Until time.Time // phase "waiting": when the fetch gives up waiting for peers
}

// ErrorBody is the JSON body of every non-2xx, non-streamed response.
type ErrorBody struct {
	Error string `json:"error"`
	Kind  Kind   `json:"kind"`
}

// ID describes the daemon.
type ID struct {
	PeerID string `json:"peer_id"`
	// IPNSName is this node's IPNS name (k51...: its key's, which kith
	// name publish points to content).
	IPNSName string `json:"ipns_name"`
	Version  string `json:"version"`
	Repo     string `json:"repo"`
	API      string `json:"api"`
	// Home is the home folder of the user the daemon runs as (empty when
	// it has none): the web UI reads a path typed as ~/... from there.
	Home string `json:"home,omitempty"`
	// Listen are the addresses the host listens on; Addresses the ones it
	// announces to peers (interface, confirmed public and relayed).
	Listen    []string `json:"listen"`
	Addresses []string `json:"addresses"`
	// Share are the announced addresses a friend on the internet can dial
	// (public or relay circuits, each ending in /p2p/ID); LAN the private
	// ones, usable only on the same network.
	Share []string `json:"share"`
	LAN   []string `json:"lan"`
	// Reachability is "public", "private" (behind NAT), "unknown", or
	// "local" (a daemon kept on this machine: --profile local).
	Reachability string `json:"reachability"`
	// DHTPeers is the size of the DHT routing table.
	DHTPeers int `json:"dht_peers"`
}

// Peer is one connection to a peer.
type Peer struct {
	ID      string `json:"id"`
	Addr    string `json:"addr"`
	Relayed bool   `json:"relayed"`
	// Limited: a relayed connection with a time and data cap (a stranger's
	// relay), which carries hole punching but no transfer.
	Limited   bool    `json:"limited,omitempty"`
	Transport string  `json:"transport"` // "tcp", "quic", ...
	Direction string  `json:"direction"` // "inbound" or "outbound"
	LatencyMs float64 `json:"latency_ms"`
	BytesIn   int64   `json:"bytes_in"`
	BytesOut  int64   `json:"bytes_out"`
	Agent     string  `json:"agent,omitempty"`
	// Name is the name the peer goes by in a group shared with it.
	Name string `json:"name,omitempty"`
}

// PeerInfo is a peer and the addresses it can be reached at.
type PeerInfo struct {
	ID    string   `json:"id"`
	Addrs []string `json:"addrs"`
}

// AddOptions qualify an add.
type AddOptions struct {
	// Name to record on the pin; defaults to the file or folder name.
	Name string `json:"name,omitempty"`
	// NoPin adds the blocks without pinning them (they go at the next gc).
	NoPin bool `json:"no_pin,omitempty"`
	// Recursive allows adding a folder by path (AddPath).
	Recursive bool `json:"recursive,omitempty"`
	// Private keeps the content out of the DHT: only peers given its
	// ticket, group members and connected peers can find it.
	Private bool `json:"private,omitempty"`
	// Exclude leaves out of a folder added by path what matches one of
	// these patterns: a name at any depth, or a path from the folder's top
	// (see dag.Exclusion).
	Exclude []string `json:"exclude,omitempty"`
	// Wrap adds the paths given as the entries of one new folder, pinned
	// under this name (unless Name says otherwise): one CID, one ticket.
	Wrap string `json:"wrap,omitempty"`
	// NoCopy keeps, of a file or folder the daemon reads itself, where the
	// bytes of its large blocks are in the files rather than a copy (Kubo's
	// --nocopy): a folder shared as it changes is its own copy. The files
	// must stay as they are for the blocks to stay readable.
	NoCopy bool `json:"nocopy,omitempty"`
	// SkipUnreadable, for a folder the daemon reads itself, leaves out a
	// file in it the daemon cannot read (no permission, held by another
	// program) or a folder it may not list, rather than failing the add,
	// and names it in AddResult.Unreadable: `kith add --skip-unreadable`,
	// and the first share of a folder that is shared as it changes, whose
	// watch tries such files again until they can be read. The client
	// leaves out what it may not read itself when it streams a folder.
	SkipUnreadable bool `json:"skip_unreadable,omitempty"`
}

// AddResult is the result of an add.
type AddResult struct {
	Cid    string `json:"cid"`
	Name   string `json:"name"`
	Size   uint64 `json:"size"`
	Blocks int    `json:"blocks"`
	Pinned bool   `json:"pinned"`
	// Private: the pin is not announced in the DHT (asked for, or pinned
	// private before: a re-add does not announce it).
	Private bool `json:"private,omitempty"`
	// Ticket holds the CID and this node's dialable addresses: give it to
	// a friend for `kith get TICKET` (no DHT lookup needed).
	Ticket string `json:"ticket,omitempty"`
	// Skipped names the special files (sockets, named pipes, devices) in
	// the folder, left out: they hold no content (the first 20);
	// SkippedCount counts them all.
	Skipped      []SkippedFile `json:"skipped,omitempty"`
	SkippedCount int           `json:"skipped_count,omitempty"`
	// Unreadable names the files AddOptions.SkipUnreadable left out,
	// each with why (the first 20); UnreadableCount counts them all.
	Unreadable      []UnreadableFile `json:"unreadable,omitempty"`
	UnreadableCount int              `json:"unreadable_count,omitempty"`
}

// UnreadableFile is a file an add could not read and left out: its path
// from the top of the folder and why ("permission denied").
type UnreadableFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// SkippedFile is a special file an add left out: its path and kind
// ("socket", "named pipe", "device").
type SkippedFile struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
}

// Entry is a file, folder or symbolic link inside a DAG.
type Entry struct {
	Name string `json:"name"`
	Cid  string `json:"cid"`
	Type string `json:"type"` // "file", "dir" or "symlink"
	// Size is a file's length, a folder's content (or, in a listing, the
	// bytes of its blocks), a symbolic link's target length.
	Size uint64 `json:"size"`
	// Target is a symbolic link's target, as written on the disk it was
	// added from (it may point outside the folder, or nowhere).
	Target string `json:"target,omitempty"`
}

// GetResult is the result of writing a DAG out to a path.
type GetResult struct {
	Cid  string `json:"cid"`
	Path string `json:"path"`
	Size uint64 `json:"size"`
	// Fetched is what came from peers (zero when all was local).
	Fetched FetchStats `json:"fetched"`
	// Meta counts the files and folders given the modes and times a
	// group's share carries (none for content no group of ours shares).
	Meta int `json:"meta,omitempty"`
	// Existed says the path held the same file already (a get run
	// again): nothing was written.
	Existed bool `json:"existed,omitempty"`
	// NotWritten lists what the file system written to cannot hold
	// where it goes, left out while the rest was written: the second
	// of two names that differ only in case (macOS's, Windows', FAT and
	// exFAT file systems take them as one), a name it does not take (a
	// colon on exFAT), a file larger than it holds (FAT32's 4 GiB), a
	// symbolic link where none can be made.
	NotWritten []NotWritten `json:"not_written,omitempty"`
}

// NotWritten is an entry a get left out: its slash path in what was got,
// what kept it out (Kind: "case", "name", "size" or "link"), and why, in a
// sentence.
type NotWritten struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
	Why  string `json:"why"`
}

// FetchStats sums up a transfer from peers.
type FetchStats struct {
	Blocks     int     `json:"blocks"`
	Bytes      int64   `json:"bytes"`
	Peers      int     `json:"peers"`
	Duplicates int     `json:"duplicates"`
	Dropped    int     `json:"dropped"` // peers dropped for lying, stalling or failing
	Seconds    float64 `json:"seconds"`
	// DownloadLimit is the cap the transfer ran under, in bytes per
	// second (fetch.download_limit; 0: none).
	DownloadLimit int64 `json:"download_limit,omitempty"`
	// Protocols splits the transfer by the protocol that carried it:
	// "kith" (kith peers, /kith/fetch) and "bitswap" (IPFS nodes).
	Protocols map[string]ProtocolStats `json:"protocols,omitempty"`
}

// ProtocolStats is what one protocol carried in a transfer.
type ProtocolStats struct {
	Blocks int   `json:"blocks"`
	Bytes  int64 `json:"bytes"`
	Peers  int   `json:"peers"`
}

// Pin is one pinned root as the API shows it. A root may be pinned by
// several owners (the user, and each group that keeps a copy here); it is
// listed once: as the user's pin if the user pinned it, else as a replica.
type Pin struct {
	Cid     string    `json:"cid"`
	Name    string    `json:"name,omitempty"`
	Size    uint64    `json:"size"`
	Created time.Time `json:"created"`
	// Replication says where else the content is kept; empty means only
	// in this repo (groups, which fill it, come later).
	Replication string `json:"replication,omitempty"`
	// Replica is set for a copy only groups keep here (the user did not
	// pin it): Group names the group, Name is the share's name. Pinning it
	// (pin add) adds the user's own pin, which no group releases.
	Replica bool   `json:"replica,omitempty"`
	Group   string `json:"group,omitempty"`
	// Releasing marks a replica of content no group shares any more (a
	// watched or synced folder's version before the newest): its groups
	// release it after groups.release_delay.
	Releasing bool `json:"releasing,omitempty"`
	// Groups names every group that keeps a copy here too (sorted), for a
	// replica and for the user's pin alike.
	Groups []string `json:"groups,omitempty"`
	// Private is set for the user's pin kept out of the DHT (kith add
	// --private, kith share): only people given its ticket, and the
	// groups it is shared in, can find it.
	Private bool `json:"private,omitempty"`
}

// PinOptions says how to pin content (pin/add).
type PinOptions struct {
	// Name is recorded on the pin ("": the pin's name so far, else the
	// name a group shares it as, or a ticket gives).
	Name string
	// Private, when set, says whether the pin is kept out of the DHT
	// (true: and no longer announced if it was). Unset, a pin keeps what
	// it was, and a new one is private when a group of ours keeps or
	// shares the content.
	Private *bool
}

// GCResult is the result of a garbage collection.
type GCResult struct {
	Removed      int   `json:"removed"`
	RemovedBytes int64 `json:"removed_bytes"`
	Kept         int   `json:"kept"`
	Missing      int   `json:"missing"`
	DiskBefore   int64 `json:"disk_before"`
	DiskAfter    int64 `json:"disk_after"`
}

// Setting is one setting of config.json (the web UI's Settings page):
// Value is what the file holds (as `kith config get` prints it: a string,
// number or boolean as it is, a list as JSON), Default what it holds
// unset. Live: a change applies while the daemon runs; else the daemon
// takes it at its next start, and Pending says it runs with another
// value until then. ReadOnly: shown, never set (identity.peer_id).
type Setting struct {
	Key      string `json:"key"`
	Value    string `json:"value"`
	Default  string `json:"default"`
	Live     bool   `json:"live"`
	Pending  bool   `json:"pending,omitempty"`
	ReadOnly bool   `json:"read_only,omitempty"`
}

// ConfigApplied answers a request that the daemon take a setting from
// config.json.
type ConfigApplied struct {
	Key string `json:"key"`
	// Applied: the daemon runs with the new value now; else it takes it
	// when it next starts.
	Applied bool `json:"applied"`
}

// RepoStat describes the repo.
type RepoStat struct {
	Path      string `json:"path"`
	Blocks    int    `json:"blocks"`
	Bytes     int64  `json:"bytes"`
	DiskUsage int64  `json:"disk_usage"`
	Pins      int    `json:"pins"`
	// DiskFree is what adds and fetches may still use on the repo's disk:
	// its free space less the reserve kith keeps (-1: not known).
	DiskFree int64 `json:"disk_free"`
	// Cache is what the finished downloads the repo keeps fetched (gets,
	// followed folders and reads, unpinned), CacheMax its bound
	// (fetch.cache_max); CacheDownloads counts them.
	Cache          int64 `json:"cache"`
	CacheMax       int64 `json:"cache_max"`
	CacheDownloads int   `json:"cache_downloads"`
	// InFiles are the bytes of blocks kept as where they are in files
	// (folders shared as they change, kith add --nocopy), not in the
	// repo, of files as they were read (their size and time); InFilesCount
	// counts those files.
	InFiles      int64 `json:"in_files"`
	InFilesCount int   `json:"in_files_count"`
}

// VerifyResult lists the blocks whose bytes no longer match their CID.
type VerifyResult struct {
	Checked int      `json:"checked"`
	Bad     []string `json:"bad"`
	// Changed are blocks kept as references to files (a folder shared as
	// it changes) whose files changed since: they are dropped.
	Changed []string `json:"changed"`
	// Incomplete are pins whose DAG lacks blocks (the repo claims content
	// it cannot serve whole).
	Incomplete []string `json:"incomplete"`
}

// ImportOptions are the options of a CAR import.
type ImportOptions struct {
	// AllowPartial pins roots the CAR holds only part of.
	AllowPartial bool
	// Name names the pins of the roots (the CAR file's name, without
	// .car): with several roots, each gets "NAME (i of n)". Without it, a
	// folder root is named after its first entry. It never renames a pin
	// the user already named.
	Name string
}

// ImportResult is the result of importing a CAR file.
type ImportResult struct {
	// Roots are the roots pinned.
	Roots  []string `json:"roots"`
	Blocks int      `json:"blocks"`
	// Incomplete are roots the CAR named without all of their blocks:
	// not pinned (unless the import allowed partial DAGs).
	Incomplete []string `json:"incomplete,omitempty"`
}

// Files in the repo through which local clients find the daemon: the API's
// address (host:port) while the daemon runs, and the API token (mode 0600).
const (
	APIFile   = "api"
	TokenFile = "api.token"
)

// Doctor is what `kith doctor` and the UI's network panel show: how this
// node stands on the network, and what to do about what is missing.
type Doctor struct {
	// Reachability is "public", "private", "unknown" or "local" (as in
	// ID); ReachabilityHow
	// says how it was learnt.
	Reachability    string `json:"reachability"`
	ReachabilityHow string `json:"reachability_how"`
	// NAT is "none", "cone", "symmetric" or "unknown" as observed by
	// peers; NATHow says from what.
	NAT    string `json:"nat"`
	NATHow string `json:"nat_how"`
	// IPv6 is this node's public IPv6 address (IPv6 is not translated)
	// and whether peers can dial it; empty when it has none.
	IPv6 string `json:"ipv6,omitempty"`
	// PortMapping says which ports the home router forwards to this node
	// on request (UPnP IGD or NAT-PMP), or why none; empty for a node
	// kept on this machine.
	PortMapping string `json:"port_mapping,omitempty"`
	// Announced lists the addresses of network.announce_addrs as given
	// out, each with whether peers dialled it back; empty when none is
	// set.
	Announced string `json:"announced,omitempty"`
	// HolePunches tried with this node on either side, and how many
	// ended in a direct connection.
	HolePunches        int    `json:"hole_punches"`
	HolePunchesOK      int    `json:"hole_punches_ok"`
	LastHolePunchError string `json:"last_hole_punch_error,omitempty"`
	// RelayAddrs are circuits through relays this node holds a
	// reservation on (GroupRelays: group members' unlimited ones).
	RelayAddrs  []string `json:"relay_addrs"`
	GroupRelays []string `json:"group_relays"`
	// RelayService says what this node relays for others.
	RelayService string `json:"relay_service"`
	// DHT state.
	DHTProtocol        string `json:"dht_protocol"`
	DHTServer          bool   `json:"dht_server"`
	DHTWAN             int    `json:"dht_wan_peers"`
	DHTLAN             int    `json:"dht_lan_peers"`
	Bootstrap          int    `json:"bootstrap_peers"`
	BootstrapConnected int    `json:"bootstrap_connected"`
	// Routers says what each delegated router (dht.delegated_routers)
	// did lately: "https://cid.contact: answered 2m ago", or failed and
	// why, or not asked yet; empty when there is none.
	Routers string `json:"routers,omitempty"`
	// Peers is the number of connected peers.
	Peers int `json:"peers"`
	// Share and LAN are as in ID.
	Share []string `json:"share"`
	LAN   []string `json:"lan"`
	// Checks are the findings, worst first.
	Checks []Check `json:"checks"`
	// Log is the daemon's log file (`kith log` prints it); empty when the
	// daemon keeps no log file.
	Log string `json:"log"`
}

// Check is one finding of the doctor.
type Check struct {
	// Status is "ok", "warn" or "fail".
	Status string `json:"status"`
	// Text says what was found, Fix what to do (empty when nothing).
	Text string `json:"text"`
	Fix  string `json:"fix,omitempty"`
}

// TicketInfo is a share ticket: one string holding a CID and this node's
// dialable addresses, for `kith get TICKET` or the UI's Get page.
type TicketInfo struct {
	Cid    string `json:"cid"`
	Ticket string `json:"ticket"`
	// Reachable is false while the ticket holds no address a friend on
	// the internet can dial (only LAN or loopback ones).
	Reachable bool `json:"reachable"`
}

// UnreadOf is what u gathered, for AddResult.Unreadable and
// UnreadableCount.
func UnreadOf(u *dag.Unread) ([]UnreadableFile, int) {
	named, count := u.Entries()
	var out []UnreadableFile
	for _, e := range named {
		out = append(out, UnreadableFile{Path: e.Path, Reason: PathReason(e.Err).Error()})
	}
	return out, count
}

// SkippedOf is what s gathered, for AddResult.Skipped and SkippedCount.
func SkippedOf(s *dag.Skipped) ([]SkippedFile, int) {
	named, count := s.Files()
	var out []SkippedFile
	for _, f := range named {
		out = append(out, SkippedFile{Path: f.Path, Kind: f.Kind})
	}
	return out, count
}
