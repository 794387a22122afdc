package group

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	s1, _ := NewSecret()
	s2, _ := NewSecret()
	k1, k2 := NewKeys(s1), NewKeys(s2)
	msg := []byte("intent: photos")
	sealed := k1.Seal(testID(1), msg)
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name    string
		keys    *Keys
		sender  int
		payload []byte
		ok      bool
	}{
		{"round trip", k1, 1, sealed, true},
		{"wrong group key", k2, 1, sealed, false},
		{"tampered", k1, 1, tampered, false},
		{"wrong sender in additional data", k1, 2, sealed, false},
		{"truncated", k1, 1, sealed[:10], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.keys.Open(testID(tt.sender), tt.payload)
			if tt.ok && (err != nil || string(got) != string(msg)) {
				t.Fatalf("open: %q, %v", got, err)
			}
			if !tt.ok && !errors.Is(err, ErrAuth) {
				t.Fatalf("open: %v, want ErrAuth", err)
			}
		})
	}
	if strings.Contains(string(sealed), string(msg)) {
		t.Fatal("payload not encrypted")
	}
}

func TestDerivedNames(t *testing.T) {
	s1, _ := NewSecret()
	s2, _ := NewSecret()
	if s1.ID() == s2.ID() || s1.Topic() == s2.Topic() || s1.ID() != s1.ID() || s1.Topic() != s1.Topic() {
		t.Fatal("ID and topic must be stable per secret and differ between secrets")
	}
	if strings.Contains(s1.Topic(), s1.ID().String()) {
		t.Fatal("topic must not be computable from the ID")
	}
	if got := s1.String(); strings.Contains(got, "0") && len(got) > 40 {
		t.Fatalf("secret printed: %s", got)
	}
}

// TestInviteV2: what kith makes now holds the group's ID and an invite
// key, not the secret; a version 1 token (the secret itself) still decodes,
// so that kith can say what to do with it.
func TestInviteV2(t *testing.T) {
	sec, _ := NewSecret()
	key, err := NewInviteKey()
	if err != nil {
		t.Fatal(err)
	}
	inv := Invite{Name: "family", Group: sec.ID(), Key: key, Addrs: []string{"/ip4/192.0.2.1/tcp/4001"}}
	tok, err := EncodeInvite(inv)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeInvite(tok)
	if err != nil || got.Legacy() || got.Group != inv.Group || got.Key != key || got.Secret != (Secret{}) {
		t.Fatalf("v2 round trip: %+v, %v", got, err)
	}
	if strings.Contains(fmt.Sprintf("%v %#v", key, key), fmt.Sprint(key[0])+" ") {
		t.Fatal("invite key printed")
	}
	if len(key.ID()) != 16 || key.ID() == (InviteKey{}).ID() {
		t.Fatalf("invite ID %q", key.ID())
	}
	old, err := EncodeInvite(Invite{Name: "family", Secret: sec})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeInvite(old); err != nil || !got.Legacy() || got.Secret != sec {
		t.Fatalf("v1 token: %+v, %v", got, err)
	}
}

func TestInvite(t *testing.T) {
	sec, _ := NewSecret()
	inv := Invite{Name: "family laptops", Secret: sec, Addrs: []string{"/ip4/192.168.1.2/udp/4001/quic-v1/p2p/12D3KooWExample", "/ip6/::1/tcp/4001"}}
	tok, err := EncodeInvite(inv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, InvitePrefix) || strings.ContainsAny(tok, " \n") {
		t.Fatalf("token not one line: %q", tok)
	}
	for _, variant := range []string{tok, strings.ToUpper(tok), tok[:20] + "\n  " + tok[20:]} {
		got, err := DecodeInvite(variant)
		if err != nil || got.Name != inv.Name || got.Secret != sec || len(got.Addrs) != 2 || got.Addrs[1] != inv.Addrs[1] {
			t.Fatalf("round trip: %+v, %v", got, err)
		}
	}
	typo := []byte(tok)
	i := len(InvitePrefix) + 10
	typo[i] = map[bool]byte{true: 'b', false: 'a'}[typo[i] == 'a']
	swapped := []byte(tok)
	j := len(InvitePrefix) + 30
	for swapped[j] == swapped[j+1] {
		j++
	}
	swapped[j], swapped[j+1] = swapped[j+1], swapped[j]
	tests := []struct{ name, token, want string }{
		{"typo", string(typo), "checksum"},
		{"swapped characters", string(swapped), "checksum"},
		{"cut off", tok[:len(tok)-5], ""},
		{"not a token", "hello", "must start with"},
		{"bad character", tok[:15] + "1" + tok[16:], "character"},
		{"empty", "", "must start with"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeInvite(tt.token)
			if !errors.Is(err, ErrInvite) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ErrInvite mentioning %q", err, tt.want)
			}
		})
	}
}
