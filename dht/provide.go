package dht

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p-kad-dht/provider"
	dualprov "github.com/libp2p/go-libp2p-kad-dht/provider/dual"
	mh "github.com/multiformats/go-multihash"
)

// classicProvideTimeout bounds a background classic announcement.
const classicProvideTimeout = 2 * time.Minute

// sweepers returns the single sweeping providers (one, or WAN and LAN).
func (d *DHT) sweepers() []*provider.SweepingProvider {
	if dp, ok := d.prov.(*dualprov.SweepingProvider); ok {
		return []*provider.SweepingProvider{dp.WAN, dp.LAN}
	}
	return []*provider.SweepingProvider{d.single}
}

// Provide makes this node a provider of c: the key is added to the
// provider's keystore, so it is reprovided every reprovide interval until
// StopProviding, and, if it was not in the keystore yet, it is queued for an
// immediate announcement.
//
// Provide does not wait for the network. It returns once the key is stored
// in the keystore (a datastore write); the announcement runs in the
// background and cannot be observed. If the node is not yet online (no
// successful lookup yet), the key is announced as soon as it is. A key that
// is already in the keystore, e.g. from a previous run with a persistent
// datastore, is not announced again right away: the provider's schedule,
// which catches up with overdue regions at start-up, covers it. Use
// ProvideNow to announce synchronously.
//
// ctx is only checked on entry: the provider's keystore write cannot be
// cancelled.
func (d *DHT) Provide(ctx context.Context, c cid.Cid) error {
	if err := d.checkKey(ctx, c); err != nil {
		return fmt.Errorf("dht: provide %s: %w", c, err)
	}
	// force=false: only keys new to the keystore are announced now; the
	// others are already on the reprovide schedule.
	if err := d.prov.StartProviding(false, c.Hash()); err != nil {
		return fmt.Errorf("dht: provide %s: %w", c, err)
	}
	// On a small network the sweep may skip the key's region (small.go).
	if len(d.smallTables()) > 0 {
		d.bg.Add(1)
		go func() {
			defer d.bg.Done()
			ctx, cancel := context.WithTimeout(d.life, classicProvideTimeout)
			defer cancel()
			_ = d.announceClassic(ctx, []mh.Multihash{c.Hash()})
		}()
	}
	return nil
}

// ProvideNow registers c for reproviding like Provide, then announces it
// synchronously: it looks up the peers closest to c and sends each of them a
// provider record, and returns when the records have been written to those
// peers' streams (ADD_PROVIDER has no reply, so not when they are stored). It returns an error if the
// lookup fails (for instance because the routing table is empty); the key
// stays registered and will be announced by the provider once online.
//
// ProvideNow takes as long as a DHT lookup (milliseconds on a LAN, seconds on
// a large network); use it when the caller must know that the record is out,
// e.g. in tests or a "kith provide --wait" command.
func (d *DHT) ProvideNow(ctx context.Context, c cid.Cid) error {
	if err := d.checkKey(ctx, c); err != nil {
		return fmt.Errorf("dht: provide now %s: %w", c, err)
	}
	// Registering through the keystore directly, rather than with
	// StartProviding, keeps the provider from queueing a second,
	// asynchronous announcement of a key we are about to announce here.
	// AddToSchedule makes sure its keyspace region gets reprovided (when
	// the provider is still offline it does this itself once online).
	if _, err := d.keystore.Put(ctx, c.Hash()); err != nil {
		return fmt.Errorf("dht: provide now %s: add to keystore: %w", c, err)
	}
	for _, p := range d.sweepers() {
		if err := p.AddToSchedule(c.Hash()); err != nil {
			return fmt.Errorf("dht: provide now %s: schedule reprovide: %w", c, err)
		}
	}
	if err := d.router.Provide(ctx, c, true); err != nil {
		return fmt.Errorf("dht: provide now %s: announce: %w", c, err)
	}
	return nil
}

// StopProviding removes c from the keystore: it is no longer reprovided, and
// a pending first announcement is dropped. Records already stored on other
// peers stay until they expire (48h after their last refresh), so peers may
// still be pointed at this node for a while.
func (d *DHT) StopProviding(ctx context.Context, c cid.Cid) error {
	if err := d.checkKey(ctx, c); err != nil {
		return fmt.Errorf("dht: stop providing %s: %w", c, err)
	}
	if err := d.prov.StopProviding(c.Hash()); err != nil {
		return fmt.Errorf("dht: stop providing %s: %w", c, err)
	}
	return nil
}

// checkKey rejects calls after Close, with a cancelled ctx, or with an
// undefined CID.
func (d *DHT) checkKey(ctx context.Context, c cid.Cid) error {
	if d.closed() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !c.Defined() {
		return errors.New("undefined cid")
	}
	return nil
}

// Providing reports whether c is in the keystore: announced, and
// reannounced every reprovide interval, until StopProviding. It lists the
// whole keystore: for checks and tests, not for every block.
func (d *DHT) Providing(ctx context.Context, c cid.Cid) (bool, error) {
	keys, err := d.providedKeys(ctx)
	if err != nil {
		return false, fmt.Errorf("dht: providing %s: %w", c, err)
	}
	for _, k := range keys {
		if string(k) == string(c.Hash()) {
			return true, nil
		}
	}
	return false, nil
}
