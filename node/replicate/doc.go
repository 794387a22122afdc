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
// A replica pin is named "group-replica:<group id>:<intent name>" (see
// PinName); any other pin is the user's, and this package never removes or
// changes one: a root the user pinned counts as our copy.
package replicate
