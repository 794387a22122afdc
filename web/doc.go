// Package web serves kith's local HTTP API (JSON and NDJSON event streams)
// on behalf of an api.Backend, guarding it against other web pages (Host and
// Origin checks) and other local users (a bearer token kept in the repo;
// the web UI's page signs in with a short-lived session of its own instead,
// see session.go).
// The CLI and the web UI are both clients of this one API.
package web
