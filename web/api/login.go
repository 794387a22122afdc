package api

import "time"

// SessionHeader carries a web UI session's secret. It is a request header,
// not a cookie, because browsers send cookies for 127.0.0.1 to every port
// of it: a header leaves only with requests the UI's own page makes.
const SessionHeader = "Kith-Session"

// LoginCode is a one-time sign-in link for the web UI (POST
// /api/v1/ui/login). URL carries the code in its fragment, which browsers
// never send to a server: the page reads it, redeems it (POST
// /api/v1/ui/session) and clears it from the address bar. It works once,
// until Expires; ID names it for GET /api/v1/ui/login/wait and is no secret.
type LoginCode struct {
	ID      string    `json:"id"`
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// LoginState is what became of a sign-in link (GET /api/v1/ui/login/wait).
type LoginState struct {
	// State is LoginSignedIn or LoginExpired.
	State string `json:"state"`
}

const (
	// LoginSignedIn: a browser redeemed the link.
	LoginSignedIn = "signed_in"
	// LoginExpired: the link expired unused, or every session was revoked.
	LoginExpired = "expired"
)

// Session is a web UI session, as the redeeming page receives it. The
// daemon keeps only a hash of Secret, in memory: a restart ends every
// session.
type Session struct {
	Secret string `json:"secret"`
	// IdleTimeout is how long, in seconds, the session lasts without a
	// request; Expires ends it however busy it is.
	IdleTimeout int64     `json:"idle_timeout"`
	Expires     time.Time `json:"expires"`
}

// Revoked reports how many web UI sessions POST /api/v1/ui/revoke ended.
type Revoked struct {
	Sessions int `json:"sessions"`
}
