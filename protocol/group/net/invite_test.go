package groupnet

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/protocol/group"
)

func TestReadInviteAnswer(t *testing.T) {
	var sec group.Secret
	sec[0] = 7
	refusal := func(why string) []byte {
		return append(binary.AppendUvarint([]byte{1}, uint64(len(why))), why...)
	}
	tests := []struct {
		name   string
		answer []byte
		want   error
		says   string
	}{
		{"the secret (older kith)", append([]byte{0}, sec[:]...), nil, ""},
		{"the secret and no keys", append(append([]byte{0}, sec[:]...), 4, 'n', 'u', 'l', 'l'), nil, ""},
		{"malformed keys", append(append([]byte{0}, sec[:]...), 2, '{', '}'), group.ErrInvalid, "malformed keys"},
		{"cut keys", append(append([]byte{0}, sec[:]...), 9, '['), nil, "unexpected EOF"},
		{"a refusal", refusal("it expired on 2026-12-01 10:00; ask a member for a new one"), group.ErrInvite, "it expired on"},
		{"control characters dropped", refusal("it was \x1b[2Jrevoked"), group.ErrInvite, "it was [2Jrevoked"},
		{"a refusal too long", binary.AppendUvarint([]byte{1}, maxInviteReason+1), group.ErrInvalid, ""},
		{"not UTF-8", refusal("\xff\xfe"), group.ErrInvalid, ""},
		{"cut secret", append([]byte{0}, sec[:10]...), nil, "unexpected EOF"},
		{"unknown answer", []byte{9}, group.ErrInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := readInviteAnswer(bufio.NewReader(bytes.NewReader(tt.answer)), "")
			switch {
			case tt.want == nil && tt.says == "":
				if err != nil || got != sec {
					t.Fatalf("got %v", err)
				}
			case tt.want == nil:
				if err == nil || !strings.Contains(err.Error(), tt.says) {
					t.Fatalf("got %v, want %q", err, tt.says)
				}
			default:
				if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
					t.Fatalf("got %v, want %v saying %q", err, tt.want, tt.says)
				}
			}
		})
	}
}
