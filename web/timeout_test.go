package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestIdleConnectionsAreClosed: a client that keeps its connection open
// after a request and sends nothing more is disconnected (thousands of
// idle connections once held the daemon's sockets open for good).
func TestIdleConnectionsAreClosed(t *testing.T) {
	s, err := Listen("127.0.0.1:0", &fakeBackend{}, "secret-token", WithIdleTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	defer func() {
		s.Shutdown(context.Background())
		<-done
	}()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /ui/ HTTP/1.1\r\nHost: %s\r\n\r\n", s.Addr())
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection still open after the idle timeout (read: %v)", err)
	}
}
