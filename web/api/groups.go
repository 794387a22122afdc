package api

import (
	"context"
	"time"

	"github.com/ipfs/go-cid"
)

// GroupBackend is the group replication part of the daemon: groups of
// members that keep N copies of what a member shares, with no coordinator.
// Groups are named by the name given at create or join, or by their ID.
type GroupBackend interface {
	// GroupCreate makes a new group with us as its only member and returns
	// its invite token (a password: whoever holds it can join).
	GroupCreate(ctx context.Context, name string) (GroupInvite, error)
	// GroupJoin joins the group of an invite token and dials its members.
	GroupJoin(ctx context.Context, token string) (Group, error)
	// GroupLeave leaves a group and drops our replicas of its content.
	GroupLeave(ctx context.Context, name string) error
	// Groups lists the groups we are in.
	Groups(ctx context.Context) ([]Group, error)
	// GroupMembers lists a group's members as we see them.
	GroupMembers(ctx context.Context, name string) ([]GroupMember, error)
	// GroupShare pins c (fetching what is missing) and asks the group to
	// keep opts.Copies copies of it; opts.Replace withdraws the group's
	// other shares of the same name.
	GroupShare(ctx context.Context, name string, c cid.Cid, opts ShareOptions) (GroupIntent, error)
	// GroupUnshare withdraws the intent: members release their replicas.
	// Our own pin stays.
	GroupUnshare(ctx context.Context, name string, c cid.Cid) error
	// GroupStatus says, for every group sharing c, who holds it and why not.
	GroupStatus(ctx context.Context, c cid.Cid) ([]GroupStatus, error)
	// GroupStatuses is GroupStatus for every root shared in any of our
	// groups, in one call: one entry per group and root, none when nothing
	// is shared.
	GroupStatuses(ctx context.Context) ([]GroupStatus, error)
	// GroupRenameMe sets the name this device goes by in one group, or
	// (group "") in all of them and in those it joins later.
	GroupRenameMe(ctx context.Context, name, group string) (DeviceName, error)
	// GroupRemove removes another member (a peer ID, its end as member
	// lists show it, or a name only one member has): its copies are placed
	// elsewhere, it is told at its next sync and cannot re-join.
	GroupRemove(ctx context.Context, group, member string) (GroupMember, error)
	// GroupInvite makes an invite token good for ttl (0: 7 days) and for
	// uses devices (0: any number). This device must be online when it is
	// used.
	GroupInvite(ctx context.Context, group string, ttl time.Duration, uses int) (GroupInvite, error)
	// GroupInvites lists the invites this device made to the group.
	GroupInvites(ctx context.Context, group string) ([]Invite, error)
	// GroupRevokeInvites revokes the invite whose ID starts with id, or
	// every open one ("all"), and returns how many.
	GroupRevokeInvites(ctx context.Context, group, id string) (int, error)
	// GroupWatch has the share of opts.Cid in group follow the folder at
	// path (absolute, read by the daemon): when it changes, it is added
	// and shared again in place of the version shared before.
	GroupWatch(ctx context.Context, group, path string, opts WatchOptions) (GroupWatch, error)
	// GroupWatches lists the folders whose shares follow them.
	GroupWatches(ctx context.Context) ([]GroupWatch, error)
	// GroupUnwatch stops following path in group ("": in every group);
	// what is shared stays shared. It returns the watches ended.
	GroupUnwatch(ctx context.Context, group, path string) ([]GroupWatch, error)
	// GroupMirror has the folder at path (absolute), which holds the
	// version cid of what group shares as name (a get just wrote it),
	// follow that name: each newer version the group shares under it is
	// written in, what was changed here kept. With cid "", the folder as
	// it is (made if missing) follows: the newest version is written in
	// the background, the files there that differ from it kept. exclude
	// names what the folder leaves out of each version (patterns, as
	// AddOptions.Exclude's; a get with them wrote cid); a folder that
	// follows the name already takes them in place of its own, and has
	// the version it holds written again with them.
	GroupMirror(ctx context.Context, group, name, path, cid string, exclude []string) (GroupMirror, error)
	// GroupSync has the folder at path (absolute), which holds the
	// version cid of what group shares as name (just shared from it, or
	// written there by a get that started at since), sync both ways:
	// what changes there is shared as name's newest version (with copies;
	// 0: as cid is), what another device shares as name is written in,
	// and where both changed a file, the other's goes beside it as a
	// conflict copy; keep versions before the newest stay shared (at
	// least as many as the version's meta says). It returns the folder as
	// GroupMirrors lists it.
	GroupSync(ctx context.Context, group, name, path, cid string, copies, keep int, since time.Time) (GroupMirror, error)
	// GroupMirrors lists the folders that follow what a group shares.
	GroupMirrors(ctx context.Context) ([]GroupMirror, error)
	// GroupUnmirror stops following into path; its files stay.
	GroupUnmirror(ctx context.Context, path string) (GroupMirror, error)
	// GroupMirrorRevert has the group's version written again over what
	// was changed in the followed folder path (what Kept names), at once.
	GroupMirrorRevert(ctx context.Context, path string) (GroupMirror, error)
	// GroupPause pauses (or resumes) the folder path: its mirror writes
	// no newer version in, its watches neither look at it nor share it,
	// until it is resumed, when both catch up at once.
	GroupPause(ctx context.Context, path string, paused bool) (FolderPause, error)
}

// WatchOptions says how a share follows its folder.
type WatchOptions struct {
	Copies  int
	Exclude []string
	// Cid is the version shared now, added from the folder by an add that
	// started at Since: what changed after Since is shared again.
	Cid   string
	Since time.Time
	// Keep is how many versions before the current one the group keeps
	// shared too (0: each new version replaces the one before).
	Keep int
}

// GroupWatch is a folder whose share in a group follows it (kith share
// --watch).
type GroupWatch struct {
	Path    string   `json:"path"`
	Group   string   `json:"group"`
	Copies  int      `json:"copies"`
	Exclude []string `json:"exclude,omitempty"`
	// Cid is the version shared now, since Updated; Checked is when the
	// folder was last looked at.
	Cid     string    `json:"cid"`
	Updated time.Time `json:"updated"`
	Checked time.Time `json:"checked"`
	// Error says why the last look or share failed, until one succeeds.
	Error string `json:"error,omitempty"`
	// Keep is how many versions before Cid the group keeps shared too,
	// and Earlier those kept now, oldest first.
	Keep    int      `json:"keep,omitempty"`
	Earlier []string `json:"earlier,omitempty"`
	// Moved, in the answer to a new watch, are the folders, gone, whose
	// watches in the group shared this same version: the folder moved
	// here, and their watches ended.
	Moved []string `json:"moved,omitempty"`
	// Sync: the folder syncs both ways (GroupSync): GroupMirrors lists
	// it too.
	Sync bool `json:"sync,omitempty"`
	// Paused: the folder is not looked at nor shared until resumed
	// (groups/resume).
	Paused bool `json:"paused,omitempty"`
	// Recent are the last changes its shares sent out (at most 50),
	// newest first.
	Recent []FolderChange `json:"recent,omitempty"`
}

// GroupMirror is a folder of this device kept as the newest version a
// group shares under a name (kith get NAME --group G --follow): a
// receive-only copy.
type GroupMirror struct {
	Path  string `json:"path"`
	Group string `json:"group"`
	Name  string `json:"name"`
	// Cid is the version the folder holds, written at Updated; Checked is
	// when the group's newest version was last looked at.
	Cid     string    `json:"cid"`
	Updated time.Time `json:"updated"`
	Checked time.Time `json:"checked"`
	// Pending is a newer version being fetched and written in. Phase
	// says what its update does ("compare": hashing the files here that
	// may already hold the version's bytes, "fetch": fetching the files
	// it writes or compares, "write"), Done of Total bytes.
	Pending string `json:"pending,omitempty"`
	Phase   string `json:"phase,omitempty"`
	Done    int64  `json:"done,omitempty"`
	Total   int64  `json:"total,omitempty"`
	// Error says why the last update failed, or why none is made.
	Error string `json:"error,omitempty"`
	// Kept names the paths (inside the folder) changed on this device
	// that the last update left as they are (the first 20); KeptCount
	// counts them.
	Kept      []string `json:"kept,omitempty"`
	KeptCount int      `json:"kept_count,omitempty"`
	// Revert: the group's version is to be written again over what was
	// changed here (groups/mirror/revert), at the next update.
	Revert bool `json:"revert,omitempty"`
	// Exclude names what the folder leaves out of the group's versions
	// (patterns of names and paths, as AddOptions.Exclude's): neither
	// fetched nor written.
	// Reapply: Exclude changed, and the version the folder holds is to be
	// written again with it, at the next update.
	Exclude []string `json:"exclude,omitempty"`
	Reapply bool     `json:"reapply,omitempty"`
	// Sync: the folder syncs both ways (GroupSync); Conflicts names the
	// conflict copies the last update wrote (the first 20): where this
	// device and another changed the same file, the other's bytes.
	Sync      bool     `json:"sync,omitempty"`
	Conflicts []string `json:"conflicts,omitempty"`
	// Keep: for a folder that syncs both ways, how many versions before
	// the newest the group keeps shared too (GroupSync's keep, or more if
	// a version written in says so).
	Keep int `json:"keep,omitempty"`
	// Paused: no newer version is written in until resumed
	// (groups/resume).
	Paused bool `json:"paused,omitempty"`
	// Recent are the last changes updates made in the folder (at most
	// 50), newest first; of a folder that syncs both ways, with those
	// made here and shared (Here).
	Recent []FolderChange `json:"recent,omitempty"`
}

// FolderChange is one thing an update did in a followed folder (written in
// from the group) or a share of a watched folder sent out: What
// ("written": a file or link, new or changed; "removed", a folder's
// with each entry it held; "moved": moved or renamed to Path, from a
// path the version no longer has; "conflict": a conflict copy, the other
// device's bytes) to Path (slash separated, from the folder's top; a
// folder's ends in /), in the version Version, at At. By and ByID name
// the device that shared the version (By is "" for a device with no name,
// or unknown once the group forgot the version); Here: this device did
// (a change made in the folder here, shared).
type FolderChange struct {
	Path    string    `json:"path"`
	What    string    `json:"what"`
	Version string    `json:"version"`
	At      time.Time `json:"at"`
	By      string    `json:"by,omitempty"`
	ByID    string    `json:"by_id,omitempty"`
	Here    bool      `json:"here,omitempty"`
}

// FolderPause answers groups/pause and groups/resume: the folder, whether
// it is paused now, and what follows it (Mirrors) or shares it as it
// changes (Watches), as groups/mirrors and groups/watches list them.
type FolderPause struct {
	Path    string        `json:"path"`
	Paused  bool          `json:"paused"`
	Mirrors []GroupMirror `json:"mirrors"`
	Watches []GroupWatch  `json:"watches"`
}

// DeviceName is the answer to a rename: the name, and the groups that now
// know this device by it.
type DeviceName struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups"`
}

// Group describes one group.
type Group struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Members int    `json:"members"`
	Intents int    `json:"intents"`
	// Replicas and ReplicaBytes are what this node keeps for the group.
	Replicas     int   `json:"replicas"`
	ReplicaBytes int64 `json:"replica_bytes"`
	Budget       int64 `json:"budget"`
	// Removed says who removed this device from the group, and when; such
	// a group is no longer running (kith group leave clears the notice).
	Removed string `json:"removed,omitempty"`
}

// GroupInvite is a new group and its invite token.
type GroupInvite struct {
	Group
	// Token is the invite: a password until it expires.
	Token string `json:"token"`
	// Invite is what the token allows.
	Invite Invite `json:"invite"`
}

// Invite is one invite this device made: ID (a hash: it cannot be
// redeemed), when it expires, how many devices may use it (0: any number)
// and how many did.
type Invite struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Uses    int       `json:"uses"`
	Used    int       `json:"used"`
	Revoked bool      `json:"revoked,omitempty"`
	Open    bool      `json:"open"` // can still admit a device
}

// GroupWatcher is implemented by group backends that say when what their
// groups show may have changed (a share, a member, the copies a member is
// heard to hold or whether it is there): the event stream's "groups".
type GroupWatcher interface {
	// WatchGroups calls fn after each such change until stop is called.
	// fn must return quickly and must not call back into the backend.
	WatchGroups(fn func()) (stop func())
}

// GroupMember is one member as this node sees it.
type GroupMember struct {
	Peer     string    `json:"peer"`
	Name     string    `json:"name"`
	Self     bool      `json:"self,omitempty"`
	Health   string    `json:"health"` // alive, offline, suspect, gone
	LastSeen time.Time `json:"last_seen"`
	Budget   int64     `json:"budget"` // bytes offered
	Used     int64     `json:"used"`   // bytes of replicas held
	Held     int       `json:"held"`   // replica roots held
}

// GroupIntent is one shared root.
type GroupIntent struct {
	Group  string `json:"group"`
	Cid    string `json:"cid"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Copies int    `json:"copies"`
	// Members is how many members the group had when it was shared (in
	// the answer to a share only): fewer than Copies means fewer copies
	// until more members join.
	Members int `json:"members,omitempty"`
	// Replaced are the other shares of the same name in the group that
	// this share withdrew (ShareOptions.Replace), and Earlier those it
	// left in place (an older version of a folder shared again, say): in
	// the answer to a share only, oldest first.
	Replaced []SharedVersion `json:"replaced,omitempty"`
	Earlier  []SharedVersion `json:"earlier,omitempty"`
	// Meta is the CID of the file of the folder's modes and times shared
	// with it (ShareOptions.Path), if any.
	Meta string `json:"meta,omitempty"`
}

// ShareOptions says how to share content in a group.
type ShareOptions struct {
	// Copies is how many members keep a copy.
	Copies int
	// Replace withdraws the group's other shares of the same name (the
	// earlier versions of what is shared again): members release them.
	Replace bool
	// Path, when set, is the folder (absolute) the content was added
	// from: the daemon reads its files' and folders' modes and times
	// there and shares them with it (GroupIntent.Meta), for the devices
	// that follow the share. Left out, the path the daemon last added
	// the content from is used, if it read it itself; a path it cannot
	// read shares none.
	Path string
	// Keep, for a folder shared to sync both ways (GroupSync), is how many
	// versions before the newest the group keeps shared: written in the
	// version's file of modes and times, so that every device that syncs
	// the folder keeps as many.
	Keep int
}

// SharedVersion is another share of the same name in a group.
type SharedVersion struct {
	Cid     string    `json:"cid"`
	Size    int64     `json:"size"`
	Created time.Time `json:"created"` // when it was (first) shared
}

// GroupStatus is the replication state of one root in one group.
type GroupStatus struct {
	GroupIntent
	// Created is when it was shared.
	Created time.Time     `json:"created,omitzero"`
	State   string        `json:"state"` // wanted, fetching, held, over-replicated, under-replicated
	Reason  string        `json:"reason,omitempty"`
	Holders []GroupHolder `json:"holders"`
}

// GroupHolder is one member's part in a root's replication.
type GroupHolder struct {
	Peer   string `json:"peer"`
	Name   string `json:"name"`
	State  string `json:"state"` // fetching, held, surplus, lost
	Reason string `json:"reason,omitempty"`
	Self   bool   `json:"self,omitempty"` // this device
}
