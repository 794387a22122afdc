package node

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/kith-p2p/kith/web/api"
)

// dohServer is a DNS-over-HTTPS server (RFC 8484, POST) on loopback that
// answers TXT questions from txt and counts the questions it was asked.
func dohServer(t *testing.T, txt map[string]string) (url string, asked *atomic.Int64) {
	t.Helper()
	asked = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		q := new(dns.Msg)
		if err != nil || r.Method != http.MethodPost || q.Unpack(body) != nil || len(q.Question) != 1 {
			http.Error(w, "not a DNS question", http.StatusBadRequest)
			return
		}
		asked.Add(1)
		m := new(dns.Msg)
		m.SetReply(q)
		question := q.Question[0]
		if v, ok := txt[question.Name]; ok && question.Qtype == dns.TypeTXT {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{v}})
		} else {
			m.Rcode = dns.RcodeNameError
		}
		out, err := m.Pack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/dns-message")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/dns-query", asked
}

// TestDNSLinkOverHTTPS: a domain names.dns_resolvers sends to a
// DNS-over-HTTPS server (an ENS-like .test here) is looked up there, not
// through the system's resolver; a name it has no record of is said so.
func TestDNSLinkOverHTTPS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := newLocalNode(t) // only to add content to and to take its CID
	c := addData(t, n, randomData(1000))
	url, asked := dohServer(t, map[string]string{"_dnslink.site.test.": "dnslink=/ipfs/" + c.String()})
	reader := newNodeAt(t, t.TempDir(), func(cfg *Config) {
		cfg.Names.DNSResolvers = []string{"test=" + url}
	})
	connect(t, reader, n.Host())
	got, err := reader.ResolveRef(ctx, "/ipns/site.test")
	if err != nil || got != c {
		t.Fatalf("/ipns/site.test resolved to %s, %v; want %s", got, err, c)
	}
	if asked.Load() == 0 {
		t.Fatal("the DNS-over-HTTPS server was never asked")
	}
	_, err = reader.ResolveRef(ctx, "/ipns/nothing.test")
	if api.KindOf(err) != api.KindNotFound || !strings.Contains(api.Sentence(err), "nothing.test has no DNSLink record") {
		t.Fatalf("/ipns/nothing.test: %v (%s), want not found, saying it has no DNSLink record", err, api.KindOf(err))
	}
}

// TestParseDNSResolvers: names.dns_resolvers as boxo takes it.
func TestParseDNSResolvers(t *testing.T) {
	got, err := parseDNSResolvers([]string{" ETH = https://dns.eth.limo/dns-query", ".=", "example.org.=http://127.0.0.1:8053/q"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"eth.": "https://dns.eth.limo/dns-query", ".": "", "example.org.": "http://127.0.0.1:8053/q"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if _, err := dnsResolver(NamesConfig{DNSResolvers: defaultDNSResolvers()}); err != nil {
		t.Fatalf("the default: %v", err)
	}
}
