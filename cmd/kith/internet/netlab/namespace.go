//go:build linux

package netlab

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// A Namespace is one network namespace of a lab: a public host, a router or
// a laptop.
type Namespace struct {
	lab  *Lab
	node string // the name given to the lab
	name string // the namespace's name: nl-<node>-<pid>-<lab>
	cpus string // taskset's CPU list for its commands, "" for any CPU
}

// PinCPUs makes the commands started in the namespace from now on run only
// on the CPUs of list (taskset's syntax: "0", "1-3"), as a machine of their
// own would: without it the lab's hosts share every CPU of this one, and a
// transfer between two of them measures what both ends together can do on
// them. Threads the programs start inherit the set.
func (n *Namespace) PinCPUs(list string) { n.cpus = list }

// Name returns the namespace's name, as `ip netns` knows it.
func (n *Namespace) Name() string { return n.name }

// Command returns a command that runs name with args inside the namespace
// (`ip netns exec`, which execs the program, so the process is the
// program). The process gets a process group of its own, so that all it
// starts can be ended with it; give the command to Start to have that done
// at cleanup. The namespace shares the machine's file system and
// environment, and its 127.0.0.1 is its own.
func (n *Namespace) Command(name string, args ...string) *exec.Cmd {
	argv := []string{"netns", "exec", n.name, name}
	if n.cpus != "" {
		// taskset execs the program too: the process is still the program.
		argv = []string{"netns", "exec", n.name, "taskset", "-c", n.cpus, name}
	}
	cmd := exec.Command("ip", append(argv, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// ip runs iproute2 commands (each a line of `ip -batch`) in the namespace,
// stopping at the first that fails.
func (n *Namespace) ip(cmds ...string) {
	n.lab.t.Helper()
	cmd := exec.Command("ip", "-n", n.name, "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(cmds, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		n.lab.t.Fatalf("netlab: in %s: ip %q: %v: %s", n.name, cmds, err, out)
	}
}

// sysctl sets kernel parameters (key=value) of the namespace.
func (n *Namespace) sysctl(settings ...string) {
	n.lab.t.Helper()
	n.mustRun(nil, "sysctl", append([]string{"-q", "-w"}, settings...)...)
}

// mustRun runs a short command in the namespace and returns its output.
func (n *Namespace) mustRun(stdin *strings.Reader, name string, args ...string) []byte {
	n.lab.t.Helper()
	cmd := n.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		n.lab.t.Fatalf("netlab: in %s: %s %s: %v: %s", n.name, name, strings.Join(args, " "), err, out)
	}
	return out
}

// pids lists the processes in the namespace.
func (n *Namespace) pids() []int {
	out, _ := exec.Command("ip", "netns", "pids", n.name).Output()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
