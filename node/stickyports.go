package node

import (
	"encoding/json"
	"os"
	"path/filepath"

	ma "github.com/multiformats/go-multiaddr"
)

// portsFile, in the repo, holds the addresses the last run listened on.
const portsFile = "listened.json"

// stickyPorts gives each listen address with port 0 ("any free port") the
// port it had in the last run (listened), when that port is free now.
// Peers remember a node's addresses (a group's member records, their
// peerstores): a daemon kept on this machine (--profile local listens on
// port 0) that came back on other ports could be found again by no one,
// so two such daemons that both restarted never met again. A port taken
// meanwhile is left to the system to choose, as before.
func stickyPorts(listen, listened []string) []string {
	out := make([]string, 0, len(listen))
	for _, s := range listen {
		out = append(out, s)
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			continue
		}
		for _, old := range listened {
			o, err := ma.NewMultiaddr(old)
			if err != nil || !samePortZero(a, o) || !portFree(o) {
				continue
			}
			out[len(out)-1] = o.String()
			break
		}
	}
	return out
}

// samePortZero reports whether a has port 0 and b is a with another port:
// the same components, values and all, except the TCP or UDP port.
func samePortZero(a, b ma.Multiaddr) bool {
	if len(a) != len(b) {
		return false
	}
	zero := false
	for i := range a {
		ca, cb := a[i], b[i]
		if ca.Code() != cb.Code() {
			return false
		}
		if ca.Code() == ma.P_TCP || ca.Code() == ma.P_UDP {
			if ca.Value() != "0" || cb.Value() == "0" {
				return false
			}
			zero = true
			continue
		}
		if ca.Value() != cb.Value() {
			return false
		}
	}
	return zero
}

// portFree reports whether a's TCP or UDP port can be bound now (a plain
// bind, as portsInUse tries).
func portFree(a ma.Multiaddr) bool { return tryBind(a) == nil }

// loadListened reads the addresses the last run listened on (none when
// the file is missing or unreadable: the ports are then the system's).
func loadListened(dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, portsFile))
	if err != nil {
		return nil
	}
	var as []string
	if json.Unmarshal(b, &as) != nil {
		return nil
	}
	return as
}

// saveListened records the addresses this run listens on, for the next.
func saveListened(dir string, listening []ma.Multiaddr) error {
	b, err := json.Marshal(addrStrings(listening))
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, portsFile), append(b, '\n'), 0o600)
}
