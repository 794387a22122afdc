// Package ticket encodes share tickets: one copyable string that holds a
// CID and the peers that have it, with the addresses a friend can dial
// (direct and relay circuits), like sendme's tickets or a magnet link.
// `kith get TICKET` dials those peers first and needs no DHT lookup.
//
// A ticket is "kith1" followed by lower-case base32 (RFC 4648, no padding)
// of: a version byte, the CID, (versions 2 and 3) the content's name,
// (version 3 only) the CID of its modes and times (empty when it has
// none), the number of peers, and for each peer its ID and addresses
// (every item a uvarint length and its bytes), then the first four bytes
// of the SHA-256 of all that, so a mistyped or truncated ticket is refused
// instead of being read as another one. A ticket is written in the lowest
// version that holds what it carries: one without modes and times as
// version 2, one without a name either as version 1, which every kith
// reads.
package ticket

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Prefix starts every ticket; it also tells a ticket from a CID.
const Prefix = "kith1"

const (
	version     = 1 // no name
	versionName = 2 // with a name after the CID
	versionMeta = 3 // with a name and the CID of the modes and times
	checksumLen = 4
	// Bounds that keep a hostile ticket from costing memory; real tickets
	// have one or two peers with a handful of addresses.
	MaxPeers    = 8
	MaxAddrs    = 16 // per peer
	maxItemLen  = 512
	maxTicketSz = 8 << 10
)

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// Errors a user can act on.
var (
	ErrNotTicket = errors.New("not a kith ticket (a ticket starts with " + Prefix + ")")
	ErrDamaged   = errors.New("the ticket is damaged: was it copied whole?")
)

// Ticket is a CID and who has it.
type Ticket struct {
	Cid cid.Cid
	// Name is the content's file or folder name, for the friend's copy
	// (`kith get TICKET` writes ./Name); "" when it has none. String
	// writes CleanName(Name); Parse keeps only a name CleanName leaves as
	// it is, so a Name read from a ticket is always one plain file name.
	Name string
	// Meta is the CID of the content's modes and times (a small JSON
	// file, node/mirror's meta), which a get gives what it writes; Undef
	// when the ticket carries none.
	Meta  cid.Cid
	Peers []peer.AddrInfo
}

// maxNameLen is the longest name a ticket carries, in bytes: what most
// file systems allow in one name.
const maxNameLen = 255

// CleanName makes name a file name that is safe and portable: one path
// element (no separator, not "." or ".."), no control characters, none of
// the characters Windows refuses in a name (each of those becomes "_"),
// not one of the device names Windows reserves (CON, NUL, COM1... with any
// extension: "_" goes before it), valid UTF-8, at most 255 bytes (cut at a
// character boundary). It returns "" when nothing usable is left.
func CleanName(name string) string {
	name = strings.ToValidUTF8(name, "_")
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`/\<>:"|?*`, r) {
			return '_'
		}
		return r
	}, name)
	if isWindowsDevice(name) {
		name = "_" + name
	}
	for len(name) > maxNameLen {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "." || name == ".." || strings.Trim(name, " ") == "" {
		return ""
	}
	return name
}

// isWindowsDevice reports whether name is one Windows keeps for a device
// (opening "nul.txt" there opens NUL), whatever its case and extension.
func isWindowsDevice(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		return base[3] >= '1' && base[3] <= '9'
	}
	return false
}

// IsTicket reports whether s looks like a ticket (rather than a CID).
func IsTicket(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), Prefix) }

// String encodes t. Peers and addresses past the bounds are left out.
func (t Ticket) String() string {
	var b bytes.Buffer
	name := CleanName(t.Name)
	switch {
	case t.Meta.Defined():
		b.WriteByte(versionMeta)
		putItem(&b, t.Cid.Bytes())
		putItem(&b, []byte(name))
		putItem(&b, t.Meta.Bytes())
	case name != "":
		b.WriteByte(versionName)
		putItem(&b, t.Cid.Bytes())
		putItem(&b, []byte(name))
	default:
		b.WriteByte(version)
		putItem(&b, t.Cid.Bytes())
	}
	peers := t.Peers[:min(len(t.Peers), MaxPeers)]
	putUvarint(&b, uint64(len(peers)))
	for _, p := range peers {
		putItem(&b, []byte(p.ID))
		addrs := p.Addrs[:min(len(p.Addrs), MaxAddrs)]
		putUvarint(&b, uint64(len(addrs)))
		for _, a := range addrs {
			putItem(&b, a.Bytes())
		}
	}
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:checksumLen])
	return Prefix + strings.ToLower(enc.EncodeToString(b.Bytes()))
}

// Parse decodes a ticket, checking its checksum, CID, peer IDs and
// addresses.
func Parse(s string) (Ticket, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, Prefix) {
		return Ticket{}, ErrNotTicket
	}
	if len(s) > maxTicketSz {
		return Ticket{}, fmt.Errorf("ticket of %d characters is too long: %w", len(s), ErrDamaged)
	}
	raw, err := enc.DecodeString(strings.ToUpper(s[len(Prefix):]))
	if err != nil || len(raw) < 1+checksumLen {
		return Ticket{}, ErrDamaged
	}
	body, sum := raw[:len(raw)-checksumLen], raw[len(raw)-checksumLen:]
	want := sha256.Sum256(body)
	if !bytes.Equal(sum, want[:checksumLen]) {
		return Ticket{}, ErrDamaged
	}
	r := bytes.NewReader(body)
	v, _ := r.ReadByte()
	if v != version && v != versionName && v != versionMeta {
		return Ticket{}, fmt.Errorf("ticket version %d is not supported by this kith; is it newer? %w", v, ErrNotTicket)
	}
	var t Ticket
	cb, err := getItem(r)
	if err != nil {
		return Ticket{}, err
	}
	if t.Cid, err = cid.Cast(cb); err != nil {
		return Ticket{}, fmt.Errorf("ticket holds no valid CID: %w", ErrDamaged)
	}
	if v >= versionName {
		nb, err := getItem(r)
		if err != nil {
			return Ticket{}, err
		}
		// A name kith would not have written is left out, not trusted.
		if name := string(nb); CleanName(name) == name {
			t.Name = name
		}
	}
	if v == versionMeta {
		mb, err := getItem(r)
		if err != nil {
			return Ticket{}, err
		}
		if len(mb) > 0 {
			if t.Meta, err = cid.Cast(mb); err != nil {
				return Ticket{}, fmt.Errorf("ticket holds no valid CID of modes and times: %w", ErrDamaged)
			}
		}
	}
	n, err := getCount(r, MaxPeers)
	if err != nil {
		return Ticket{}, err
	}
	for range n {
		idb, err := getItem(r)
		if err != nil {
			return Ticket{}, err
		}
		id, err := peer.IDFromBytes(idb)
		if err != nil {
			return Ticket{}, fmt.Errorf("ticket holds an invalid peer ID: %w", ErrDamaged)
		}
		ai := peer.AddrInfo{ID: id}
		na, err := getCount(r, MaxAddrs)
		if err != nil {
			return Ticket{}, err
		}
		for range na {
			ab, err := getItem(r)
			if err != nil {
				return Ticket{}, err
			}
			a, err := ma.NewMultiaddrBytes(ab)
			if err != nil {
				return Ticket{}, fmt.Errorf("ticket holds an invalid address: %w", ErrDamaged)
			}
			ai.Addrs = append(ai.Addrs, a)
		}
		t.Peers = append(t.Peers, ai)
	}
	if r.Len() != 0 {
		return Ticket{}, fmt.Errorf("ticket has %d trailing bytes: %w", r.Len(), ErrDamaged)
	}
	return t, nil
}

func putUvarint(b *bytes.Buffer, v uint64) {
	b.Write(binary.AppendUvarint(nil, v))
}

func putItem(b *bytes.Buffer, p []byte) {
	putUvarint(b, uint64(len(p)))
	b.Write(p)
}

func getCount(r *bytes.Reader, max int) (int, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, ErrDamaged
	}
	if n > uint64(max) {
		return 0, fmt.Errorf("ticket names %d items, at most %d are allowed: %w", n, max, ErrDamaged)
	}
	return int(n), nil
}

func getItem(r *bytes.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil || n > maxItemLen || n > uint64(r.Len()) {
		return nil, ErrDamaged
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, ErrDamaged
	}
	return p, nil
}
