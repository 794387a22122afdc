package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kith-p2p/kith/web/api"
)

// ConfigPath is where a repo keeps its config.
func ConfigPath(repoDir string) string { return filepath.Join(repoDir, configFile) }

// noRepoError says a repo has no config yet. It is os.ErrNotExist to
// errors.Is, without that error's words in its message.
type noRepoError struct{ path string }

func (e noRepoError) Error() string {
	return fmt.Sprintf("there is no config at %s yet: `kith daemon` creates the repo on its first run", e.path)
}

func (e noRepoError) Unwrap() error { return os.ErrNotExist }

// ReadConfig loads a repo's config.json as the daemon would: defaults for
// what the file lacks, validated. It needs no lock: the daemon only reads
// the file when it starts.
func ReadConfig(repoDir string) (Config, error) {
	path := ConfigPath(repoDir)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return Config{}, noRepoError{path}
	}
	return loadConfig(path)
}

// SetConfig sets key to value in the repo's config.json (see Config.Set),
// and UnsetConfig sets it back to its default. Both validate the result,
// change only that key's text in the file (other keys, their order and
// keys unknown to this kith are kept), and write it atomically. They
// return the value as it now reads.
func SetConfig(repoDir, key, value string) (ConfigValue, error) {
	return editConfig(repoDir, key, func(c *Config) error { return c.Set(key, value) })
}

// UnsetConfig: see SetConfig.
func UnsetConfig(repoDir, key string) (ConfigValue, error) {
	return editConfig(repoDir, key, func(c *Config) error { return c.Unset(key) })
}

func editConfig(repoDir, key string, change func(*Config) error) (ConfigValue, error) {
	path := ConfigPath(repoDir)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ConfigValue{}, noRepoError{path}
	}
	if err != nil {
		return ConfigValue{}, fmt.Errorf("read config %s: %w", path, err)
	}
	before, err := decodeConfig(raw)
	if err != nil {
		return ConfigValue{}, fmt.Errorf("config %s is not valid JSON (fix it by hand, or move it away and let `kith daemon` write a new one): %w", path, err)
	}
	want := before
	if err := change(&want); err != nil {
		return ConfigValue{}, err
	}
	if err := want.Validate(); err != nil {
		return ConfigValue{}, err
	}
	out, err := rewriteConfig(raw, key, want)
	if err != nil {
		return ConfigValue{}, fmt.Errorf("update config %s: %w", path, err)
	}
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := writeFileAtomic(path, out, mode); err != nil {
		return ConfigValue{}, err
	}
	return want.Lookup(key)
}

// rewriteConfig writes key's value from want into the file raw. A setting
// that the file leaves out takes its default, and a file from an older
// kith is read differently once some keys appear in it (upgradeConfig),
// so adding one key can change what others mean: then the fewest other
// settings are written out too (greedily, the one that leaves the fewest
// differences first) until the file reads as want exactly.
func rewriteConfig(raw []byte, key string, want Config) ([]byte, error) {
	doc, err := parseObject(raw)
	if err != nil {
		return nil, err
	}
	put := func(doc *jsonObject, k string) error {
		v, err := want.Lookup(k)
		if err != nil {
			return err
		}
		return doc.setPath(strings.Split(k, "."), v.Value)
	}
	if err := put(&doc, key); err != nil {
		return nil, err
	}
	for {
		diff, err := differences(doc, want)
		if err != nil {
			return nil, err
		}
		if len(diff) == 0 {
			return indentConfig(doc.marshal())
		}
		var best jsonObject
		bestLeft := len(diff)
		for _, k := range diff {
			try := slices.Clone(doc)
			if err := put(&try, k); err != nil {
				return nil, err
			}
			left, err := differences(try, want)
			if err != nil {
				return nil, err
			}
			if len(left) < bestLeft {
				best, bestLeft = try, len(left)
			}
		}
		if best == nil {
			return nil, errors.New("the edited file does not read back as intended")
		}
		doc = best
	}
}

// differences lists the settings that doc reads differently from want.
func differences(doc jsonObject, want Config) ([]string, error) {
	got, err := decodeConfig(doc.marshal())
	if err != nil {
		return nil, err
	}
	var diff []string
	for _, k := range ConfigKeys() {
		g, _ := got.Lookup(k)
		w, _ := want.Lookup(k)
		if !bytes.Equal(g.Value, w.Value) {
			diff = append(diff, k)
		}
	}
	return diff, nil
}

func indentConfig(b []byte) ([]byte, error) {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// jsonObject is a JSON object whose members keep their order and, unless
// set, their exact text.
type jsonObject []jsonMember

type jsonMember struct {
	key   string
	value json.RawMessage
}

// parseObject reads a JSON object; anything else is an error.
func parseObject(b []byte) (jsonObject, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	obj := jsonObject{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		obj.set(k, v)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("text after the JSON object")
	}
	return obj, nil
}

// set replaces key's value, or appends the member.
func (o *jsonObject) set(key string, v json.RawMessage) {
	for i := range *o {
		if (*o)[i].key == key {
			(*o)[i].value = v
			return
		}
	}
	*o = append(*o, jsonMember{key, v})
}

// setPath sets the value at a path of keys, creating the objects on the
// way that the file lacks.
func (o *jsonObject) setPath(path []string, v json.RawMessage) error {
	if len(path) == 1 {
		o.set(path[0], v)
		return nil
	}
	inner := jsonObject{}
	for _, m := range *o {
		if m.key == path[0] && !bytes.Equal(bytes.TrimSpace(m.value), []byte("null")) {
			var err error
			if inner, err = parseObject(m.value); err != nil {
				return fmt.Errorf("%s: %w", path[0], err)
			}
		}
	}
	if err := inner.setPath(path[1:], v); err != nil {
		return err
	}
	o.set(path[0], inner.marshal())
	return nil
}

// marshal writes the object compactly (indentConfig lays it out).
func (o jsonObject) marshal() json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// RepoInUse reports whether a daemon holds the repo's lock. It takes the
// lock for an instant when it is free, so a daemon starting at that very
// moment could find the repo busy; commands that only read do not call it.
func RepoInUse(repoDir string) (bool, error) {
	f, err := os.OpenFile(filepath.Join(repoDir, lockFile), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // no daemon ever ran here
	}
	if err != nil {
		return false, fmt.Errorf("open repo lock: %w: %w", err, api.ErrUnavailable)
	}
	defer f.Close()
	return tryLock(f) != nil, nil
}
