package api

import "time"

// LoginCode is a one-time sign-in link for the web UI (POST /api/v1/ui/login):
// opening URL in a browser sets the session cookie. It works once, until
// Expires.
type LoginCode struct {
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}
