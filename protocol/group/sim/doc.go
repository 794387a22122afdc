// Package sim is a discrete-event simulation of a kith group: thousands of
// members that gossip updates, heartbeat, reconcile, plan and fetch, with
// churn (laptops sleeping, members leaving for good, new members joining).
// There is no networking: messages are events on a priority queue with
// random delays and losses, driven by a seeded generator, so a run is
// deterministic. The state merge, reconciliation, placement and planning are
// the real code of package group.
//
// Simplifications, so that 10,000 members fit in memory and minutes:
//   - Members' liveness view is shared: every member sees member X as last
//     seen at X's last heartbeat. (Real members differ by a gossip delay,
//     milliseconds against a grace period of minutes.) Holdings reported in
//     heartbeats are seen by everyone within ViewRefresh.
//   - Heartbeat delivery is counted, not simulated per receiver: a heartbeat
//     reaches every awake member.
//   - Members with equal state digests share one immutable State value, and
//     members with equal digests and views share one assignment (a pure
//     function of them: that is the point of the design).
//   - Update gossip is push gossip with a fixed fan-out, a stand-in for
//     GossipSub's mesh; members forward an update the first time it changes
//     their state.
package sim
