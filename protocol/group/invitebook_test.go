package group

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestInviteBook(t *testing.T) {
	key := func(t *testing.T) InviteKey {
		k, err := NewInviteKey()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	a, b, c := testID(1), testID(2), testID(3)
	tests := []struct {
		name  string
		ttl   time.Duration
		uses  int
		steps []func(*InviteBook, InviteKey) error // each must pass
		last  func(*InviteBook, InviteKey) error   // its error must say want
		want  string
	}{
		{
			name: "single use admits one device, again on a retry, not a second",
			ttl:  time.Hour, uses: 1,
			steps: []func(*InviteBook, InviteKey) error{
				func(bk *InviteBook, k InviteKey) error { return bk.Redeem(k, a, t0) },
				func(bk *InviteBook, k InviteKey) error { return bk.Redeem(k, a, t0.Add(time.Minute)) },
			},
			last: func(bk *InviteBook, k InviteKey) error { return bk.Redeem(k, b, t0) },
			want: "already used by 1 device",
		},
		{
			name: "any number until it expires",
			ttl:  time.Hour,
			steps: []func(*InviteBook, InviteKey) error{
				func(bk *InviteBook, k InviteKey) error { return bk.Redeem(k, a, t0) },
				func(bk *InviteBook, k InviteKey) error { return bk.Redeem(k, b, t0) },
				func(bk *InviteBook, k InviteKey) error { return bk.Redeem(k, c, t0.Add(59*time.Minute)) },
			},
			last: func(bk *InviteBook, k InviteKey) error { return bk.Redeem(k, testID(4), t0.Add(time.Hour)) },
			want: "it expired on",
		},
		{
			name: "a retry after expiry is refused too",
			ttl:  time.Hour,
			steps: []func(*InviteBook, InviteKey) error{
				func(bk *InviteBook, k InviteKey) error { return bk.Redeem(k, a, t0) },
			},
			last: func(bk *InviteBook, k InviteKey) error { return bk.Redeem(k, a, t0.Add(2*time.Hour)) },
			want: "it expired",
		},
		{
			name: "revoked",
			ttl:  time.Hour,
			steps: []func(*InviteBook, InviteKey) error{
				func(bk *InviteBook, k InviteKey) error { _, err := bk.Revoke(k.ID()[:6], t0); return err },
			},
			last: func(bk *InviteBook, k InviteKey) error { return bk.Redeem(k, a, t0) },
			want: "it was revoked",
		},
		{
			name: "another key",
			ttl:  time.Hour,
			last: func(bk *InviteBook, _ InviteKey) error { return bk.Redeem(key(t), a, t0) },
			want: "no such invite",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var bk InviteBook
			k := key(t)
			if _, err := bk.Add(k, t0, tt.ttl, tt.uses); err != nil {
				t.Fatal(err)
			}
			for i, step := range tt.steps {
				if err := step(&bk, k); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			err := tt.last(&bk, k)
			if !errors.Is(err, ErrInvite) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrInvite saying %q", err, tt.want)
			}
			// The book survives its file.
			raw, err := bk.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			again, err := UnmarshalInviteBook(raw)
			if err != nil || len(again.Invites) != 1 || again.Invites[0].Open(t0) != bk.Invites[0].Open(t0) {
				t.Fatalf("reloaded: %+v, %v", again, err)
			}
			if strings.Contains(string(raw), string(k[:4])) {
				t.Fatal("the book holds the key")
			}
		})
	}
}

func TestInviteBookBounds(t *testing.T) {
	var bk InviteBook
	k, _ := NewInviteKey()
	for _, ttl := range []time.Duration{0, -time.Hour, MaxInviteTTL + time.Hour} {
		if _, err := bk.Add(k, t0, ttl, 0); !errors.Is(err, ErrInvalid) {
			t.Fatalf("ttl %v: %v", ttl, err)
		}
	}
	if _, err := bk.Add(k, t0, time.Hour, -1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative uses: %v", err)
	}
	if _, err := bk.Revoke("ab", t0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("short ID: %v", err)
	}
	if _, err := bk.Add(k, t0, time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	k2, _ := NewInviteKey()
	if _, err := bk.Add(k2, t0, time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := bk.Revoke("all", t0); n != 2 || err != nil {
		t.Fatalf("revoke all: %d, %v", n, err)
	}
	if _, err := bk.Revoke("all", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("nothing left to revoke: %v", err)
	}
	bk.Prune(t0.Add(8*24*time.Hour + time.Hour))
	if len(bk.Invites) != 0 {
		t.Fatalf("prune kept %d", len(bk.Invites))
	}
}
