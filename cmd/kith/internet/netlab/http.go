//go:build linux

package netlab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"
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

// ServeHTTPS runs handler as a web server at the public host h, on its
// address, port 443, over TLS (HTTP/2 offered) with a certificate made
// for that address, until the test ends. It returns the server's
// multiaddr (/ip4/ADDR/tcp/443/tls/http, as a provider announces one) and
// a file holding the certificate, for the SSL_CERT_FILE of the programs
// that are to trust it (Go's and OpenSSL's programs read it).
func (l *Lab) ServeHTTPS(h *Host, handler http.Handler) (addr, certFile string) {
	l.t.Helper()
	cert, certPEM, err := selfSigned(h.addr)
	if err != nil {
		l.t.Fatalf("netlab: certificate for %s: %v", h.addr, err)
	}
	certFile = filepath.Join(l.t.TempDir(), "cert.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		l.t.Fatal(err)
	}
	hostPort := net.JoinHostPort(h.addr.String(), "443")
	ln, err := listenIn(h.name, hostPort)
	if err != nil {
		l.t.Fatalf("netlab: web server on %s: %v", hostPort, err)
	}
	srv := &http.Server{Handler: handler, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			l.t.Errorf("netlab: web server on %s: %v", hostPort, err)
		}
	}()
	l.t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return "/ip4/" + h.addr.String() + "/tcp/443/tls/http", certFile
}

// selfSigned makes a certificate for ip, its own authority, valid for a
// day, and returns it with its PEM.
func selfSigned(ip netip.Addr) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: ip.String()},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{ip.AsSlice()},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
