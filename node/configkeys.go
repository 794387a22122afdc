package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/kith-p2p/kith/web/api"
)

// A config key is a dotted JSON path as it appears in config.json
// ("api.address", "network.listen_addrs"): a section and one of its
// settings. `kith config get/set/unset` name settings this way; the
// reflection over Config below is the one list of them, so a field added
// to Config is a key with nothing else to update.

// configField is one setting of config.json.
type configField struct {
	key   string       // "network.listen_addrs"
	index []int        // the field's index path in Config
	typ   reflect.Type // string, bool, int, int64, Duration or []string
}

// configSection is a top-level object of config.json and its settings.
type configSection struct {
	key    string
	index  int
	fields []configField
}

var durationType = reflect.TypeFor[Duration]()

// configSections lists config.json's sections and settings in file order:
// every exported field with a JSON name (fields tagged "-", such as the
// tests' GossipHeartbeat, are not in the file and not keys).
var configSections = sync.OnceValue(func() []configSection {
	var out []configSection
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		sf := ct.Field(i)
		name := jsonName(sf)
		if name == "" {
			continue
		}
		sec := configSection{key: name, index: i}
		for j := range sf.Type.NumField() {
			f := sf.Type.Field(j)
			if n := jsonName(f); n != "" {
				sec.fields = append(sec.fields, configField{key: name + "." + n, index: []int{i, j}, typ: f.Type})
			}
		}
		out = append(out, sec)
	}
	return out
})

// jsonName is the name a struct field has in JSON, or "" if it has none.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// ConfigKeys lists every setting's key, in the order of config.json.
func ConfigKeys() []string {
	var out []string
	for _, s := range configSections() {
		for _, f := range s.fields {
			out = append(out, f.key)
		}
	}
	return out
}

// ConfigReadOnly reports whether key is shown but cannot be set.
func ConfigReadOnly(key string) bool {
	_, ok := readOnlyKeys[key]
	return ok
}

// readOnlyKeys are shown but not set: they describe the repo rather than
// configure it.
var readOnlyKeys = map[string]string{
	"identity.peer_id": "identity.peer_id is derived from the repo's identity key (identity.key) and cannot be set",
}

// byteKeys are counts of bytes: they also accept sizes such as 10MiB.
var byteKeys = map[string]string{
	"fetch.upload_limit":   "bytes per second",
	"fetch.download_limit": "bytes per second",
	"fetch.cache_max":      "bytes",
	"groups.budget_max":    "bytes",
}

// findField finds key's setting; an unknown key is refused with the
// closest known one.
func findField(key string) (configField, error) {
	for _, s := range configSections() {
		for _, f := range s.fields {
			if f.key == key {
				return f, nil
			}
		}
	}
	for _, s := range configSections() {
		if s.key == key {
			return configField{}, fmt.Errorf("%s is a section of the config, not one setting: set one of its keys (%s): %w", key, strings.Join(sectionKeys(s), ", "), api.ErrInvalid)
		}
	}
	return configField{}, unknownKey(key)
}

func sectionKeys(s configSection) []string {
	var out []string
	for _, f := range s.fields {
		out = append(out, f.key)
	}
	return out
}

// unknownKey says key is not a setting, suggesting the closest one: by
// spelling (within a third of its length), else one whose last part shares
// a word with it ("max_upload_rate" finds fetch.upload_limit).
func unknownKey(key string) error {
	best, bestD := "", max(2, len(key)/3)+1
	for _, k := range ConfigKeys() {
		if d := EditDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		_, leaf, _ := strings.Cut(key, ".")
		if leaf == "" {
			leaf = key
		}
		words := strings.FieldsFunc(leaf, func(r rune) bool { return r == '_' || r == '-' || r == '.' })
	search:
		for _, k := range ConfigKeys() {
			_, kl, _ := strings.Cut(k, ".")
			for _, w := range words {
				if len(w) >= 4 && slices.Contains(strings.Split(kl, "_"), w) {
					best = k
					break search
				}
			}
		}
	}
	if best != "" {
		return fmt.Errorf("%q is not a config key: did you mean %s?: %w", key, best, api.ErrInvalid)
	}
	return fmt.Errorf("%q is not a config key (`kith config show` lists them all): %w", key, api.ErrInvalid)
}

// EditDistance is the Levenshtein distance between a and b: how a
// mistyped name (a config key here, a flag in the CLI) finds the one meant.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ConfigValue is one setting, or a whole section, and its value as JSON.
type ConfigValue struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// Text is the value as `kith config get` prints it: a string, number or
// boolean as it is, a list or section as indented JSON.
func (v ConfigValue) Text() string {
	var s string
	if json.Unmarshal(v.Value, &s) == nil {
		return s
	}
	if len(v.Value) > 0 && (v.Value[0] == '[' || v.Value[0] == '{') {
		var b bytes.Buffer
		if err := json.Indent(&b, v.Value, "", "  "); err == nil {
			return b.String()
		}
	}
	return string(v.Value)
}

// Lookup returns the value of a setting, or of a whole section ("api").
func (c Config) Lookup(key string) (ConfigValue, error) {
	v := reflect.ValueOf(c)
	for _, s := range configSections() {
		if s.key == key {
			return marshalValue(key, v.Field(s.index).Interface())
		}
	}
	f, err := findField(key)
	if err != nil {
		return ConfigValue{}, err
	}
	return marshalValue(key, v.FieldByIndex(f.index).Interface())
}

func marshalValue(key string, v any) (ConfigValue, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return ConfigValue{}, fmt.Errorf("encode %s: %w", key, err)
	}
	return ConfigValue{Key: key, Value: b}, nil
}

// Set parses value for key's type and sets it in c. It checks the value's
// form only ("30s" is a duration); Validate checks the config as a whole.
func (c *Config) Set(key, value string) error {
	f, err := findField(key)
	if err != nil {
		return err
	}
	if why, ok := readOnlyKeys[key]; ok {
		return fmt.Errorf("%s: %w", why, api.ErrInvalid)
	}
	v, err := parseValue(f, value)
	if err != nil {
		return fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	reflect.ValueOf(c).Elem().FieldByIndex(f.index).Set(v)
	return nil
}

// Unset sets key back to its value in DefaultConfig.
func (c *Config) Unset(key string) error {
	f, err := findField(key)
	if err != nil {
		return err
	}
	if why, ok := readOnlyKeys[key]; ok {
		return fmt.Errorf("%s: %w", why, api.ErrInvalid)
	}
	def := reflect.ValueOf(DefaultConfig()).FieldByIndex(f.index)
	reflect.ValueOf(c).Elem().FieldByIndex(f.index).Set(def)
	return nil
}

// parseValue reads s as a value of f's type.
func parseValue(f configField, s string) (reflect.Value, error) {
	s = strings.TrimSpace(s)
	switch f.typ {
	case durationType:
		d, err := parseDuration(s)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("%s takes a duration such as 90s, 30m, 22h or 7d, not %q", f.key, s)
		}
		return reflect.ValueOf(Duration(d)), nil
	}
	switch f.typ.Kind() {
	case reflect.String:
		return reflect.ValueOf(s).Convert(f.typ), nil
	case reflect.Bool:
		switch strings.ToLower(s) {
		case "true", "yes", "on", "1":
			return reflect.ValueOf(true), nil
		case "false", "no", "off", "0":
			return reflect.ValueOf(false), nil
		}
		return reflect.Value{}, fmt.Errorf("%s takes true or false, not %q", f.key, s)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if unit, ok := byteKeys[f.key]; ok && err != nil {
			var u uint64
			if u, err = humanize.ParseBytes(s); err == nil && u > 1<<62 {
				err = strconv.ErrRange
			}
			n = int64(u)
			if err != nil {
				return reflect.Value{}, fmt.Errorf("%s takes a number of %s, such as 1048576 or 10MiB, not %q", f.key, unit, s)
			}
		}
		if err == nil && f.typ.Kind() == reflect.Int && int64(int(n)) != n {
			err = strconv.ErrRange
		}
		if err != nil {
			return reflect.Value{}, fmt.Errorf("%s takes a whole number, not %q", f.key, s)
		}
		return reflect.ValueOf(n).Convert(f.typ), nil
	case reflect.Slice:
		list, err := parseList(s)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("%s takes a list: a JSON array of strings, or items separated by commas (%v)", f.key, err)
		}
		return reflect.ValueOf(list), nil
	}
	return reflect.Value{}, fmt.Errorf("%s cannot be set from the command line (edit config.json)", f.key)
}

// parseDuration is time.ParseDuration that also takes days ("7d"), the
// unit group timings are thought of in.
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	return time.ParseDuration(s)
}

// parseList reads a JSON array of strings, or a comma-separated list; an
// empty string, or [], is the empty list.
func parseList(s string) ([]string, error) {
	out := []string{}
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, fmt.Errorf("not a JSON array of strings")
		}
		if out == nil {
			out = []string{} // "null" is no JSON array, but means none
		}
		return out, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out, nil
}
