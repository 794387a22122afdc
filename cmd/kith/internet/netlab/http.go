//go:build linux

package netlab

import (
	"errors"
	"net"
	"net/http"
)

// ServeHTTP runs h as a web server of the lab's internet, on the core's
// address (where the DNS server of ServeDNS answers too), port 80, until
// the test ends, and returns its URL (http://11.0.0.1). Every namespace of
// the lab reaches it, laptops through their routers; the root namespace
// does not.
func (l *Lab) ServeHTTP(h http.Handler) string {
	l.t.Helper()
	addr := net.JoinHostPort(coreAddr.String(), "80")
	ln, err := listenIn(l.core.name, addr)
	if err != nil {
		l.t.Fatalf("netlab: web server on %s: %v", addr, err)
	}
	srv := &http.Server{Handler: h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			l.t.Errorf("netlab: web server on %s: %v", addr, err)
		}
	}()
	l.t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return "http://" + coreAddr.String()
}
