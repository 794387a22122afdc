// Package group is the core of kith's group replication: a group of members
// (one person's laptops, or a team) keeps whatever a member shares with
// --copies N on N members, chosen without a coordinator.
//
// The package is pure logic, with no networking. It holds:
//
//   - State: the replicated state (members and intents), a state-based CRDT of
//     last-writer-wins registers ordered by hybrid logical clocks (HLC, Clock),
//     with tombstones compacted after a bounded horizon (state.go, merge.go).
//   - Range digests and a reconciliation step for anti-entropy (digest.go,
//     sync.go): two members find what differs in few round trips and pull
//     only that, in bounded messages.
//   - Keys: the group secret, the ID derived from it, key epochs (a new
//     key after every removal, epoch.go, keyring.go), the gossip topic and
//     payload sealing of an epoch (crypto.go); signed updates (sign.go); the invite
//     token and the book of invites a member made (invite.go,
//     invitebook.go).
//   - The gossip messages, bounded and validated before anything is merged
//     (messages.go).
//   - Liveness: heartbeat bookkeeping with suspicion before death and a grace
//     period, so a sleeping laptop does not make copies move (liveness.go).
//   - Placement: rendezvous hashing of (member, root) with storage budgets,
//     the same answer on every member from the same view (placement.go), and
//     the Planner that tells this member which replica roots to fetch and
//     which to release (plan.go).
//
// The networking layer (GossipSub topic, the sync stream protocol, the
// daemon) lives elsewhere and drives these types; wiring.go says who calls
// what and when, and what to persist. Package sim runs the same
// code in a discrete-event simulation.
//
// None of the types here are safe for concurrent use unless they say so;
// State.Clone is O(1) and a clone may be read while the original changes.
package group
