package node

import "sync"

// groupWatchers are told when what a page of the groups or of the Files
// shows may have changed: a group's state (a share, a member), what a
// member is heard to hold or whether it is there, our own copies, a group
// joined or left, a followed folder shared again or failing. The web
// server turns it into its "groups" event.
type groupWatchers struct {
	mu   sync.Mutex
	next int
	fns  map[int]func()
}

// watch calls fn after each change until stop is called. fn must return
// quickly and must not call back into the node's groups.
func (w *groupWatchers) watch(fn func()) (stop func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fns == nil {
		w.fns = map[int]func(){}
	}
	id := w.next
	w.next++
	w.fns[id] = fn
	return func() {
		w.mu.Lock()
		delete(w.fns, id)
		w.mu.Unlock()
	}
}

// notify tells every watcher, outside the lock.
func (w *groupWatchers) notify() {
	w.mu.Lock()
	fns := make([]func(), 0, len(w.fns))
	for _, fn := range w.fns {
		fns = append(fns, fn)
	}
	w.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// WatchGroups calls fn whenever what the groups show may have changed (see
// groupWatchers), until stop is called.
func (n *Node) WatchGroups(fn func()) (stop func()) { return n.groupWatch.watch(fn) }
