package group

// How the networking layer and the daemon drive this package. Nothing here
// is code; it is the contract, kept next to the types it talks about.
//
// Per group the daemon keeps: the Secret (0600 file, never logged), a
// Keyring (its epoch keys: Keyring.Marshal in a 0600 file beside the
// secret), a State, a Clock (NewClock(self, nil)), Keys (NewEpochKeys of
// the epoch Keyring.Use picks; NewKeys for epoch 0), a Liveness
// (NewLiveness(cfg, start)), a Planner (NewPlanner(self, cfg)), its
// incarnation number (persisted, incremented at every start), and its
// replica set (root -> size), kept apart from the user's own pins.
//
// Persist: State.Marshal() after every change (debounced) and at shutdown;
// Unmarshal at start. The secret, keys, name and incarnation beside it. Liveness
// and Planner are not persisted: after a restart, members get one grace
// period to be heard, and release timers start over (which only delays
// releases).
//
// Clock.SetSigner(identity key) and State.RequireSignatures first, so what
// we write is signed and what we accept is signed by its writer.
//
// Create: NewSecret; State.Join(clock, name, addrs, budget). Invite:
// NewInviteKey; InviteBook.Add (persist the book); EncodeInvite with the
// group name and ID, the key and our addrs. Join from a token: DecodeInvite;
// dial the addrs; redeem the key with the inviter (it runs
// InviteBook.Redeem and answers with the secret and its KeyGrants); Keyring.Add
// each grant; State.Join; the first sync
// gets a snapshot (our Synced is zero). Leave: State.Leave, publish it,
// stop, drop all replica pins. Remove another: State.Remove, publish it;
// then, whenever State.ShouldRotate says so (after any change),
// State.Rotate, keep the key (Keyring.Add), publish the entry, move to the
// new epoch's topic and hand the key to each connected member (in the
// sync's key exchange, to members MayHold allows; a member that lacks the
// current epoch's key syncs to get it). A sync hello from a removed member gets RemovalNotice as its answer, and
// the removed member merges it (CheckRemovalNotice), stops and drops its
// replica pins.
//
// Gossip (GossipSub topic EpochKey.Topic() of the epoch Keyring.Use picks,
// signed messages, StrictSign):
//   - publish: Keys.Seal(self, EncodeMessage(msg)).
//   - topic validator, before anything is forwarded or merged: sender :=
//     msg.GetFrom() (the signer); Keys.Open(sender, data) (ErrAuth: reject
//     and let peer scoring punish the forwarder); DecodeMessage; msg.Validate
//     (sender, state, now). ErrNotMember and ErrClockSkew: ignore (the
//     update comes back through sync); ErrInvalid, ErrTooLarge: reject.
//   - then: an Update goes to Clock.Observe and State.ApplyUpdate; a
//     Heartbeat to Clock.Observe and Liveness.Observe(hb, receive time).
//   - local actions (share, unshare, join, leave, budget change): the State
//     method returns the Update to publish.
//
// Heartbeat every cfg.HeartbeatEvery(number of members) (longer in large
// groups, so idle traffic per member stays flat), and soon after our
// holdings change: Used and Held from the replica set
// (only roots the store can serve: a root that failed verification or a
// read is dropped from the set), Parts = HeldParts(len), Part rotating,
// Roots = the replica roots in that part, Digest = the first
// HeartbeatDigestLen bytes of State.Digest(), Every = the interval. Observe
// our own heartbeat too (for Members listings); the Planner takes our
// holdings from the replica set directly.
//
// Then Planner.Plan(state, Liveness.Views(state), replicas, now): start
// fetching Plan.Fetch (verify, pin as replica, add to the replica set);
// for Plan.Release remove the replica pin and the root from the replica set
// (never touch a user pin of the same root); GC later. Run it also after
// any state change. Status and `members` listings: Placer().Status for each
// Plan.Assignments entry, Liveness.Health and LastSeen for members.
//
// Sync (a stream protocol, e.g. /kith/group-sync/1.0.0, between members of
// the group only; frames bounded by MaxSyncMsgSize and sealed with Keys):
//   - both sides send a SyncHello {own member record, State.Synced(),
//     State.Digest()}; each checks the other's with State.CheckHello.
//   - if State.NeedsSnapshot(their Synced): send State.Marshal() (they
//     Unmarshal it and State.Rebase on it), then reconcile as below.
//   - equal digests: done. Else the initiator sends State.SyncOpen(); each
//     side answers with State.SyncStep until one sends an empty message.
//   - after a complete exchange: State.MarkSynced(now).
//   - when: every few minutes with a random member, at once after waking
//     or starting, and when Liveness.Behind lists a member whose heartbeat
//     digest differs from ours (twice in a row, so as not to sync during
//     normal gossip propagation).
//
// Compaction: State.Compact(now, cfg.CompactionHorizon) once an hour.
