// Package catalog holds every customer-facing text of Koe's dialogs, in
// Japanese (the default) and English.
//
// The texts live in txtar files embedded in the binary, one section per key:
//
//	-- menu.prompt --
//	ご用件をお選びください。
//
// A file's language is the part of its name before the first dot
// ("ja.txtar", "en.txtar", or "ja.accident.txtar" for a dialog that brings
// its own file). Keys look like "area.name" (lower case, digits, '_' and
// dots). Texts may hold named placeholders such as {phone}, filled by Text.
package catalog

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/koehq/koe"
	"golang.org/x/tools/txtar"
)

//go:embed *.txtar
var files embed.FS

// KeyPattern is the form every key has.
var KeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

var placeholderRE = regexp.MustCompile(`\{([a-z][a-z0-9_]*)\}`)

// Catalog maps (language, key) to a text. It is immutable after Load and
// safe for concurrent use.
type Catalog struct {
	texts map[koe.Lang]map[string]string
}

// Default returns the catalogue embedded in the binary.
func Default() (*Catalog, error) {
	return Load(files)
}

// Load reads every *.txtar file at the root of fsys. It returns an error
// wrapping koe.ErrInvalid for an unknown language, a malformed key or a key
// defined twice for one language, and when Japanese is missing.
func Load(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "*.txtar")
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c := &Catalog{texts: make(map[koe.Lang]map[string]string)}
	for _, name := range names {
		tag, _, _ := strings.Cut(path.Base(name), ".")
		lang, ok := koe.ParseLang(tag)
		if !ok {
			return nil, fmt.Errorf("catalog: %s: unknown language %q: %w", name, tag, koe.ErrInvalid)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
		m := c.texts[lang]
		if m == nil {
			m = make(map[string]string)
			c.texts[lang] = m
		}
		for _, f := range txtar.Parse(data).Files {
			if !KeyPattern.MatchString(f.Name) {
				return nil, fmt.Errorf("catalog: %s: malformed key %q: %w", name, f.Name, koe.ErrInvalid)
			}
			if _, dup := m[f.Name]; dup {
				return nil, fmt.Errorf("catalog: %s: key %q defined twice: %w", name, f.Name, koe.ErrInvalid)
			}
			m[f.Name] = strings.TrimRight(string(f.Data), "\n")
		}
	}
	if len(c.texts[koe.Japanese]) == 0 {
		return nil, fmt.Errorf("catalog: no Japanese texts: %w", koe.ErrInvalid)
	}
	return c, nil
}

// Text returns the text for key in lang with its placeholders filled from
// args, given as name, value pairs: Text(koe.Japanese, "desk.phone",
// "phone", "0120-000-000"). A language without the key falls back to
// Japanese; a key missing everywhere returns "[key]" (tests keep that from
// happening). A placeholder without a value is left as written.
func (c *Catalog) Text(lang koe.Lang, key string, args ...string) string {
	t, ok := c.texts[lang][key]
	if !ok {
		t, ok = c.texts[koe.Japanese][key]
	}
	if !ok {
		return "[" + key + "]"
	}
	if len(args) < 2 || !strings.Contains(t, "{") {
		return t
	}
	return placeholderRE.ReplaceAllStringFunc(t, func(m string) string {
		name := m[1 : len(m)-1]
		for i := 0; i+1 < len(args); i += 2 {
			if args[i] == name {
				return args[i+1]
			}
		}
		return m
	})
}

// Has reports whether lang itself (without fallback) defines key.
func (c *Catalog) Has(lang koe.Lang, key string) bool {
	_, ok := c.texts[lang][key]
	return ok
}

// Langs returns the languages the catalogue has texts for, sorted.
func (c *Catalog) Langs() []koe.Lang {
	langs := make([]koe.Lang, 0, len(c.texts))
	for l := range c.texts {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	return langs
}

// Keys returns the keys defined for lang, sorted.
func (c *Catalog) Keys(lang koe.Lang) []string {
	keys := make([]string, 0, len(c.texts[lang]))
	for k := range c.texts[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Placeholders returns the distinct placeholder names in text, sorted.
func Placeholders(text string) []string {
	var names []string
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}
