// Package replicate runs the replication loop of one group this node is
// in: plan which shared roots this member should hold, fetch and pin
// them, release the copies the plan no longer needs, keep the space
// offered to the group within what the disk still holds, and send the
// heartbeat that tells the other members what we hold.
//
// It reaches the rest of the daemon through a few small interfaces (Net,
// Pins, Fetcher, Disk, Peers) that package node implements, so that the
// loop can be tested against an in-memory store and a fake network.
//
// A CID can be pinned by several owners at once (blockstore.Owner): the
// user, and each group that keeps a copy here. A group's copy is its own
// record, owned by PinOwner(group, share), beside any other owner's on the
// same root; this package adds and removes only its group's records, so a
// release never takes a copy the user, or another group, still keeps.
package replicate
