package node

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/ipfs/boxo/gateway"
	"github.com/miekg/dns"
	madns "github.com/multiformats/go-multiaddr-dns"
)

// NamesConfig configures how names are looked up (names.go).
type NamesConfig struct {
	// DNSResolvers sends the DNSLink lookups of some domains to a
	// DNS-over-HTTPS server instead of the system's resolver, as Kubo's
	// DNS.Resolvers: "DOMAIN=URL" each, "eth=https://dns.eth.limo/dns-query"
	// (ENS names, such as vitalik.eth, which no ordinary DNS server
	// knows), "." for every domain, and "DOMAIN=" for the system's
	// resolver. Domains not listed use the system's resolver, except .eth,
	// which uses dns.eth.limo unless listed otherwise.
	DNSResolvers []string `json:"dns_resolvers"`
	// DelegatedRouters are asked for IPNS records beside the DHT, and
	// given the records this node publishes, over the Delegated Routing
	// V1 HTTP API (GET and PUT /routing/v1/ipns), as Kubo asks and
	// gives them: https://delegated-ipfs.dev by default, which answers
	// within a second where a DHT lookup of a name takes up to a minute.
	// [] keeps names in the DHT alone (the local profile, a closed
	// network).
	DelegatedRouters []string `json:"delegated_routers"`
}

// DefaultNameRouters is where a new repo on the public network asks for
// names beside the DHT, and publishes them: as Kubo.
func DefaultNameRouters() []string {
	return []string{"https://delegated-ipfs.dev"}
}

// defaultDNSResolvers are Kubo's: ENS through eth.limo.
func defaultDNSResolvers() []string {
	return []string{"eth=https://dns.eth.limo/dns-query"}
}

// parseDNSResolvers reads names.dns_resolvers into boxo's map, FQDN to
// URL ("" for the system's resolver).
func parseDNSResolvers(list []string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range list {
		domain, u, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return nil, fmt.Errorf("names.dns_resolvers: %q is not DOMAIN=URL (for example eth=https://dns.eth.limo/dns-query)", item)
		}
		domain = strings.ToLower(strings.TrimSpace(domain))
		if domain != "." {
			if _, ok := dns.IsDomainName(domain); !ok || domain == "" || strings.HasPrefix(domain, ".") {
				return nil, fmt.Errorf("names.dns_resolvers: %q is not a domain (eth, example.org, or . for every domain)", domain)
			}
			domain = dns.Fqdn(domain)
		}
		if _, dup := out[domain]; dup {
			return nil, fmt.Errorf("names.dns_resolvers lists %s twice", strings.TrimSuffix(domain, "."))
		}
		if u = strings.TrimSpace(u); u != "" {
			p, err := url.Parse(u)
			if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
				return nil, fmt.Errorf("names.dns_resolvers: %q is not the URL of a DNS-over-HTTPS server (https://...), nor empty (the system's resolver)", u)
			}
		}
		out[domain] = u
	}
	return out, nil
}

// dnsResolver is the resolver DNSLink lookups go through: the system's,
// and the DNS-over-HTTPS servers names.dns_resolvers (and the .eth
// default) name.
func dnsResolver(c NamesConfig) (*madns.Resolver, error) {
	m, err := parseDNSResolvers(c.DNSResolvers)
	if err != nil {
		return nil, err
	}
	r, err := gateway.NewDNSResolver(m)
	if err != nil {
		return nil, fmt.Errorf("names.dns_resolvers: %w", err)
	}
	return r, nil
}
