//go:build linux

package netlab

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// ServeDNS runs the lab's DNS server, on the internet's core address
// (Gateway, port 53, UDP), until the test ends: it answers a TXT question
// for a name of txt (as "_dnslink.example.org", without the final dot)
// with its strings, any other question for such a name with no records,
// and a question for any other name with NXDOMAIN, as an authoritative
// server of those names would. Every namespace of the lab, and those made
// after, then asks it (its resolv.conf).
func (l *Lab) ServeDNS(txt map[string][]string) {
	l.t.Helper()
	zone := make(map[string][]string, len(txt))
	for name, values := range txt {
		zone[dns.Fqdn(strings.ToLower(name))] = values
	}
	addr := net.JoinHostPort(coreAddr.String(), "53")
	pc, err := listenPacketIn(l.core.name, addr)
	if err != nil {
		l.t.Fatalf("netlab: DNS server on %s: %v", addr, err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		w.WriteMsg(answer(zone, q))
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ActivateAndServe()
	}()
	<-started
	l.t.Cleanup(func() {
		srv.Shutdown()
		<-done
	})
	l.resolv = fmt.Sprintf("# netlab: the lab's DNS server (ServeDNS)\nnameserver %s\n", coreAddr)
	for _, ns := range l.namespaces {
		if err := os.WriteFile(filepath.Join(etcDir(ns.name), "resolv.conf"), []byte(l.resolv), 0o644); err != nil {
			l.t.Fatal(err)
		}
	}
}

// answer is the reply to q from the names of zone (fully qualified, lower
// case).
func answer(zone map[string][]string, q *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	for _, question := range q.Question {
		values, ok := zone[strings.ToLower(question.Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
			continue
		}
		if question.Qtype != dns.TypeTXT {
			continue
		}
		for _, v := range values {
			m.Answer = append(m.Answer, &dns.TXT{
				Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60},
				Txt: []string{v},
			})
		}
	}
	return m
}

// listenPacketIn opens a UDP socket on addr in the network namespace ns.
func listenPacketIn(ns, addr string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := inNamespace(ns, func() (func(), error) {
		var err error
		pc, err = net.ListenPacket("udp4", addr)
		if err != nil {
			return nil, err
		}
		return func() { pc.Close() }, nil
	})
	return pc, err
}

// listenIn opens a TCP listener on addr in the network namespace ns.
func listenIn(ns, addr string) (net.Listener, error) {
	var l net.Listener
	err := inNamespace(ns, func() (func(), error) {
		var err error
		l, err = net.Listen("tcp4", addr)
		if err != nil {
			return nil, err
		}
		return func() { l.Close() }, nil
	})
	return l, err
}

// inNamespace runs open (which makes a socket) in the network namespace
// ns: a thread of this process enters it for the call (a socket stays in
// the namespace it was made in) and comes back. The thread is locked to a
// goroutine of its own, so that one which could not come back ends with
// it rather than serve others; what open made is then undone (the func it
// returned) and an error returned.
func inNamespace(ns string, open func() (undo func(), err error)) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		here, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			ch <- err
			return
		}
		defer here.Close()
		there, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			runtime.UnlockOSThread()
			ch <- err
			return
		}
		defer there.Close()
		if err := unix.Setns(int(there.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- fmt.Errorf("enter namespace %s: %w", ns, err)
			return
		}
		undo, err := open()
		if back := unix.Setns(int(here.Fd()), unix.CLONE_NEWNET); back != nil {
			// Still locked: the thread ends with this goroutine.
			if undo != nil {
				undo()
			}
			ch <- fmt.Errorf("leave namespace %s: %w", ns, back)
			return
		}
		runtime.UnlockOSThread()
		ch <- err
	}()
	return <-ch
}
