package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/kith-p2p/kith/web/api"
)

const (
	// loginCodeTTL is how long a sign-in link works: long enough for a
	// browser to start, short enough that a leftover link is useless.
	loginCodeTTL = 2 * time.Minute
	// maxLoginCodes bounds the codes waiting to be redeemed.
	maxLoginCodes = 32
	// sessionIdle ends a session after this long without a request from
	// its page. An open live stream is not a request: a tab left alone
	// overnight is signed out by the next day.
	sessionIdle = 12 * time.Hour
	// sessionMaxAge ends a session this long after it started, however
	// busy: a secret that leaked without anyone noticing dies within a
	// week.
	sessionMaxAge = 7 * 24 * time.Hour
	// maxSessions bounds the sessions kept; signing in once more ends the
	// least recently used.
	maxSessions = 64
)

// sessions signs the web UI in without the API token ever reaching a page,
// and without any cookie: browsers send cookies for 127.0.0.1 to every port
// of it, so any other local web server the user visits would receive one.
//
// `kith ui` (which can read the token file) asks for a one-time code and
// hands it to the browser in a URL fragment; the page redeems it for a
// random session secret, keeps it in sessionStorage and sends it in a
// header (api.SessionHeader) with each of its own requests. The daemon
// keeps a hash of each code and secret only, in memory.
type sessions struct {
	// now is the clock; tests replace it.
	now func() time.Time

	mu    sync.Mutex
	codes map[digest]*loginCode
	live  map[digest]*session
}

// digest is the SHA-256 of a code or secret: what the daemon keeps, so a
// copy of its memory holds nothing a browser could present.
type digest [sha256.Size]byte

func hashSecret(s string) digest { return sha256.Sum256([]byte(s)) }

type loginCode struct {
	id      string
	expires time.Time
	used    bool
	// done is closed once the code is used, expired or revoked: it wakes
	// a `kith ui` waiting for the browser.
	done   chan struct{}
	closed bool
}

func (c *loginCode) finish() {
	if !c.closed {
		c.closed = true
		close(c.done)
	}
}

type session struct {
	created, lastUsed time.Time
}

func (s *session) expired(now time.Time) bool {
	return now.Sub(s.lastUsed) >= sessionIdle || now.Sub(s.created) >= sessionMaxAge
}

func newSessions() *sessions {
	return &sessions{now: time.Now, codes: map[digest]*loginCode{}, live: map[digest]*session{}}
}

// randomSecret is 256 random bits, URL-safe.
func randomSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather than return short)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newCode issues a one-time sign-in code and the ID to wait on it by.
func (s *sessions) newCode() (code, id string, expires time.Time) {
	code, id = randomSecret(), randomSecret()[:16]
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	expires = now.Add(loginCodeTTL)
	s.pruneCodesLocked(now)
	for len(s.codes) >= maxLoginCodes {
		var oldest digest
		first := true
		for k, c := range s.codes {
			if first || c.expires.Before(s.codes[oldest].expires) {
				oldest, first = k, false
			}
		}
		s.codes[oldest].finish()
		delete(s.codes, oldest)
	}
	s.codes[hashSecret(code)] = &loginCode{id: id, expires: expires, done: make(chan struct{})}
	return code, id, expires
}

// redeem consumes code and starts a session; ok is true once per valid,
// unexpired code.
func (s *sessions) redeem(code string) (secret string, expires time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.pruneCodesLocked(now)
	c := s.codes[hashSecret(code)]
	if c == nil || c.used {
		return "", time.Time{}, false
	}
	// The entry stays until it expires, so `kith ui` can learn it was used.
	c.used = true
	c.finish()
	s.pruneSessionsLocked(now)
	for len(s.live) >= maxSessions {
		var lru digest
		first := true
		for k, ss := range s.live {
			if first || ss.lastUsed.Before(s.live[lru].lastUsed) {
				lru, first = k, false
			}
		}
		delete(s.live, lru)
	}
	secret = randomSecret()
	s.live[hashSecret(secret)] = &session{created: now, lastUsed: now}
	return secret, now.Add(sessionMaxAge), true
}

// wait blocks until the code named id is used (api.LoginSignedIn), expires or
// is revoked (api.LoginExpired), or ctx ends.
func (s *sessions) wait(ctx context.Context, id string) (string, error) {
	for {
		s.mu.Lock()
		now := s.now()
		s.pruneCodesLocked(now)
		var c *loginCode
		for _, x := range s.codes {
			if x.id == id {
				c = x
			}
		}
		if c == nil {
			s.mu.Unlock()
			return api.LoginExpired, nil
		}
		if c.used {
			s.mu.Unlock()
			return api.LoginSignedIn, nil
		}
		left, done := c.expires.Sub(now), c.done
		s.mu.Unlock()
		t := time.NewTimer(left)
		select {
		case <-done:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		}
		t.Stop()
	}
}

// use checks a session secret and counts the request as activity.
func (s *sessions) use(secret string) (digest, bool) {
	k := hashSecret(secret)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	ss := s.live[k]
	if ss == nil {
		return k, false
	}
	if ss.expired(now) {
		delete(s.live, k)
		return k, false
	}
	ss.lastUsed = now
	return k, true
}

// alive reports whether a session still holds, without counting as
// activity: for a long request (the event stream) to end with its session.
func (s *sessions) alive(k digest) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.live[k]
	return ss != nil && !ss.expired(s.now())
}

// revokeAll ends every session and every code not yet redeemed, and
// returns how many sessions it ended.
func (s *sessions) revokeAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.pruneSessionsLocked(now)
	n := len(s.live)
	clear(s.live)
	for k, c := range s.codes {
		c.finish()
		delete(s.codes, k)
	}
	return n
}

func (s *sessions) pruneCodesLocked(now time.Time) {
	for k, c := range s.codes {
		if !now.Before(c.expires) {
			c.finish()
			delete(s.codes, k)
		}
	}
}

func (s *sessions) pruneSessionsLocked(now time.Time) {
	for k, ss := range s.live {
		if ss.expired(now) {
			delete(s.live, k)
		}
	}
}

// sessionKey is the request context key for the session a request was
// authenticated with.
type sessionKey struct{}

func withSession(ctx context.Context, k digest) context.Context {
	return context.WithValue(ctx, sessionKey{}, k)
}

// sessionOf returns the session r was authenticated with, if it was not
// the API token.
func sessionOf(r *http.Request) (digest, bool) {
	k, ok := r.Context().Value(sessionKey{}).(digest)
	return k, ok
}

// fromOwnPage reports whether the browser says r came from a page of this
// very origin (a fetch by the UI). Browsers set Sec-Fetch-Site themselves
// and scripts cannot; a request without it is not from a current browser,
// so a session secret copied out of one and replayed is refused.
func fromOwnPage(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Site") == "same-origin"
}
