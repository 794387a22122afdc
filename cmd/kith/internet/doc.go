// Package internet holds kith's tests across NATs: real kith daemons (and a
// real Kubo) on an emulated internet built from network namespaces by the
// netlab package. Two laptops behind home routers share with nothing but a
// CID or a ticket; see the tests for the scenarios.
package internet
