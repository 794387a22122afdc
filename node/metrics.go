package node

import (
	"github.com/prometheus/client_golang/prometheus"
)

// netCollector exports what libp2p's bandwidth counter and swarm know at
// scrape time: bytes per protocol and direction, and connected peers.
type netCollector struct {
	n     *Node
	bytes *prometheus.Desc
	peers *prometheus.Desc
}

func newNetCollector(n *Node) *netCollector {
	return &netCollector{
		n: n,
		bytes: prometheus.NewDesc("kith_p2p_protocol_bytes_total",
			"Bytes exchanged with peers per libp2p protocol.", []string{"protocol", "direction"}, nil),
		peers: prometheus.NewDesc("kith_p2p_connected_peers", "Peers with at least one open connection.", nil, nil),
	}
}

func (c *netCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.bytes
	ch <- c.peers
}

func (c *netCollector) Collect(ch chan<- prometheus.Metric) {
	for proto, st := range c.n.bw.GetBandwidthByProtocol() {
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(st.TotalIn), string(proto), "in")
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(st.TotalOut), string(proto), "out")
	}
	ch <- prometheus.MustNewConstMetric(c.peers, prometheus.GaugeValue, float64(len(c.n.host.Network().Peers())))
}
