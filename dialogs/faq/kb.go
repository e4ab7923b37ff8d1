package faq

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/koehq/koe"
)

// kb/ja.readings (and testdata/dev-kana.tsv) are generated from kb/ja*.faq
// (and testdata/dev.tsv) by kagome, which the binary does not link (see
// internal/readings); TestReadingsCurrent fails when they are stale.
//
//go:generate go run ./internal/readings -kb kb -o kb/ja.readings -dev testdata/dev.tsv -devout testdata/dev-kana.tsv
//go:embed kb/*.faq kb/synonyms.txt kb/vars.txt kb/ja.readings
var embedded embed.FS

// MaxAnswerRunes bounds an answer (after its placeholders are filled with
// the defaults of vars.txt) so that it fits one LINE bubble comfortably.
const MaxAnswerRunes = 500

// idPattern is the form of an entry id: lower case, digits and dashes.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

var placeholderRE = regexp.MustCompile(`\{([a-z][a-z0-9_]*)\}`)

// Match is one entry of the knowledge base found for a question, or looked
// up by id. Question is the entry's title (its first question variant);
// FollowUps are the titles of the entries it suggests next, meant as quick
// replies (a tapped title, searched again, finds its entry first).
// Score is the raw ranking score (0 for Entry); Confidence is in [0, 1]
// (1 for Entry).
type Match struct {
	ID, Question string /* the entry's title/first variant */
	Answer       string
	Link         string
	FollowUps    []string
	Score        float64
	Confidence   float64
}

// entry is one parsed knowledge-base entry of one language.
type entry struct {
	id       string
	variants []string
	readings []reading // Japanese only, from kb/ja.readings
	answer   string
	link     string
	follow   []string // entry ids
	file     string
	line     int
}

// reading is the kana reading of one question variant (the variant as it
// was when the reading was generated).
type reading struct{ variant, kana string }

// KB is a knowledge base: entries per language with their search index. It
// is immutable after Load and safe for concurrent use.
type KB struct {
	langs    map[koe.Lang]*index
	synonyms *synonymIndex
	vars     map[string]string
	fill     *strings.Replacer
	p        params
}

var (
	defaultOnce sync.Once
	defaultKB   *KB
	defaultErr  error
)

// Default returns the knowledge base embedded in the binary. It is loaded
// once; later calls return the same *KB (or the same error).
func Default() (*KB, error) {
	defaultOnce.Do(func() { defaultKB, defaultErr = Load(embedded) })
	return defaultKB, defaultErr
}

// Load reads a knowledge base from fsys, laid out like the embedded one:
//
//	kb/<lang>[.<topic>].faq   entries (ja.faq, en.faq, ja.home.faq …)
//	kb/synonyms.txt           synonym groups, one per line, "a = b = c"
//	                          (Latin phrases match whole words; "burgl*" a prefix)
//	kb/vars.txt               placeholder defaults, "name: value"
//	kb/ja.readings            optional, generated: the kana reading of each
//	                          Japanese variant, "id<TAB>variant<TAB>reading"
//
// An entry file is line oriented; an entry starts at "id:" and ends at the
// next "id:" or the end of the file; "#" starts a comment line:
//
//	id: accident-report          lower case, digits, dashes; unique per language
//	q: 事故の連絡方法            one or more question variants; the first is the title
//	a: まず…                     the answer; several a: lines are joined by newlines
//	link: {site}/accident        optional
//	follow: claim-documents      optional, repeatable: ids of entries to suggest
//
// Load returns an error wrapping koe.ErrInvalid, naming the file and line,
// for a duplicate id, an entry without variants or answer, an answer longer
// than MaxAnswerRunes, an unknown key, a follow-up to an unknown id, an
// unknown placeholder or language; when there are no Japanese entries; and
// for a malformed line of kb/ja.readings or one whose id is not a Japanese
// entry (a reading whose variant has since changed is still used: the
// tests catch a stale file).
func Load(fsys fs.FS) (*KB, error) { return load(fsys, defaultParams) }

// load is Load with the ranker's parameters (the tests tune them).
func load(fsys fs.FS, p params) (*KB, error) {
	kb := &KB{langs: make(map[koe.Lang]*index), vars: make(map[string]string), p: p}
	if err := kb.loadVars(fsys, "kb/vars.txt"); err != nil {
		return nil, err
	}
	if err := kb.loadSynonyms(fsys, "kb/synonyms.txt"); err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "kb/*.faq")
	if err != nil {
		return nil, fmt.Errorf("faq: %w", err)
	}
	byLang := make(map[koe.Lang][]*entry)
	seen := make(map[koe.Lang]map[string]*entry)
	for _, name := range names {
		tag, _, _ := strings.Cut(path.Base(name), ".")
		lang, ok := koe.ParseLang(tag)
		if !ok {
			return nil, fmt.Errorf("faq: %s: unknown language %q: %w", name, tag, koe.ErrInvalid)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("faq: %w", err)
		}
		entries, err := parseEntries(name, data)
		if err != nil {
			return nil, err
		}
		if seen[lang] == nil {
			seen[lang] = make(map[string]*entry)
		}
		for _, e := range entries {
			if prev, dup := seen[lang][e.id]; dup {
				return nil, fmt.Errorf("faq: %s:%d: duplicate id %q (first at %s:%d): %w", e.file, e.line, e.id, prev.file, prev.line, koe.ErrInvalid)
			}
			seen[lang][e.id] = e
			byLang[lang] = append(byLang[lang], e)
		}
	}
	if len(byLang[koe.Japanese]) == 0 {
		return nil, fmt.Errorf("faq: no Japanese entries: %w", koe.ErrInvalid)
	}
	if err := loadReadings(fsys, readingsFile, seen[koe.Japanese]); err != nil {
		return nil, err
	}
	kb.fill = kb.replacer(kb.vars)
	for lang, entries := range byLang {
		for _, e := range entries {
			for _, f := range e.follow {
				if seen[lang][f] == nil {
					return nil, fmt.Errorf("faq: %s:%d: follow-up %q is not an entry of %s: %w", e.file, e.line, f, lang, koe.ErrInvalid)
				}
			}
			for _, s := range []string{e.answer, e.link} {
				for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
					if _, ok := kb.vars[m[1]]; !ok {
						return nil, fmt.Errorf("faq: %s:%d: unknown placeholder {%s} (define it in kb/vars.txt): %w", e.file, e.line, m[1], koe.ErrInvalid)
					}
				}
			}
			if n := utf8.RuneCountInString(kb.fill.Replace(e.answer)); n > MaxAnswerRunes {
				return nil, fmt.Errorf("faq: %s:%d: answer of %q has %d characters, more than %d: %w", e.file, e.line, e.id, n, MaxAnswerRunes, koe.ErrInvalid)
			}
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].id < entries[j].id })
		kb.langs[lang] = kb.build(entries)
	}
	return kb, nil
}

// parseEntries parses one entry file.
func parseEntries(name string, data []byte) ([]*entry, error) {
	var (
		out []*entry
		cur *entry
	)
	finish := func() error {
		if cur == nil {
			return nil
		}
		if len(cur.variants) == 0 {
			return fmt.Errorf("faq: %s:%d: entry %q has no question variants (q:): %w", name, cur.line, cur.id, koe.ErrInvalid)
		}
		if strings.TrimSpace(cur.answer) == "" {
			return fmt.Errorf("faq: %s:%d: entry %q has no answer (a:): %w", name, cur.line, cur.id, koe.ErrInvalid)
		}
		out = append(out, cur)
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		key, val, ok := strings.Cut(trimmed, ":")
		if !ok {
			return nil, fmt.Errorf("faq: %s:%d: want \"key: value\": %w", name, n, koe.ErrInvalid)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if key != "id" && cur == nil {
			return nil, fmt.Errorf("faq: %s:%d: %q before the first id: %w", name, n, key, koe.ErrInvalid)
		}
		switch key {
		case "id":
			if err := finish(); err != nil {
				return nil, err
			}
			if !idPattern.MatchString(val) {
				return nil, fmt.Errorf("faq: %s:%d: malformed id %q (lower case, digits, dashes): %w", name, n, val, koe.ErrInvalid)
			}
			cur = &entry{id: val, file: name, line: n}
		case "q":
			if val == "" {
				return nil, fmt.Errorf("faq: %s:%d: empty question variant: %w", name, n, koe.ErrInvalid)
			}
			cur.variants = append(cur.variants, val)
		case "a":
			if cur.answer != "" {
				cur.answer += "\n"
			}
			cur.answer += val
		case "link":
			if cur.link != "" {
				return nil, fmt.Errorf("faq: %s:%d: second link: %w", name, n, koe.ErrInvalid)
			}
			cur.link = val
		case "follow":
			if !idPattern.MatchString(val) {
				return nil, fmt.Errorf("faq: %s:%d: follow-up %q is not an entry id: %w", name, n, val, koe.ErrInvalid)
			}
			cur.follow = append(cur.follow, val)
		default:
			return nil, fmt.Errorf("faq: %s:%d: unknown key %q (want id, q, a, link, follow): %w", name, n, key, koe.ErrInvalid)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("faq: %s: %w", name, err)
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return out, nil
}

// readingsFile holds the kana readings of the Japanese question variants.
const readingsFile = "kb/ja.readings"

// loadReadings attaches the readings of name to the Japanese entries byID;
// a missing file is no error.
func loadReadings(fsys fs.FS, name string, byID map[string]*entry) error {
	data, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("faq: %w", err)
	}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || !idPattern.MatchString(f[0]) || strings.TrimSpace(f[1]) == "" || strings.TrimSpace(f[2]) == "" {
			return fmt.Errorf("faq: %s:%d: want id<TAB>variant<TAB>reading: %w", name, n+1, koe.ErrInvalid)
		}
		e := byID[f[0]]
		if e == nil {
			return fmt.Errorf("faq: %s:%d: %q is not a Japanese entry (run go generate ./dialogs/faq): %w", name, n+1, f[0], koe.ErrInvalid)
		}
		e.readings = append(e.readings, reading{variant: f[1], kana: f[2]})
	}
	return nil
}

func (kb *KB) loadVars(fsys fs.FS, name string) error {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("faq: %w", err)
	}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !regexp.MustCompile(`^[a-z][a-z0-9_]*$`).MatchString(k) || v == "" {
			return fmt.Errorf("faq: %s:%d: want \"name: value\": %w", name, n+1, koe.ErrInvalid)
		}
		if _, dup := kb.vars[k]; dup {
			return fmt.Errorf("faq: %s:%d: %q defined twice: %w", name, n+1, k, koe.ErrInvalid)
		}
		kb.vars[k] = v
	}
	return nil
}

func (kb *KB) loadSynonyms(fsys fs.FS, name string) error {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("faq: %w", err)
	}
	var groups [][]string
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var group []string
		for _, p := range strings.Split(line, "=") {
			if p = normalize(strings.TrimSpace(p)); p != "" {
				group = append(group, p)
			}
		}
		if len(group) < 2 {
			return fmt.Errorf("faq: %s:%d: want at least two phrases \"a = b\": %w", name, n+1, koe.ErrInvalid)
		}
		if strings.Contains(group[0], "*") {
			return fmt.Errorf("faq: %s:%d: the canonical (first) phrase cannot be a prefix*: %w", name, n+1, koe.ErrInvalid)
		}
		groups = append(groups, group)
	}
	kb.synonyms = newSynonymIndex(groups)
	return nil
}

func (kb *KB) replacer(vars map[string]string) *strings.Replacer {
	var pairs []string
	for k, v := range vars {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...)
}

// With returns a copy of kb whose answers and links fill the named
// placeholders from vars instead of the defaults of kb/vars.txt (for
// example "inquiry_phone" from KOE_INQUIRY_PHONE). Empty values and names
// the knowledge base does not use are ignored. kb itself is unchanged; the
// copy shares the index.
func (kb *KB) With(vars map[string]string) *KB {
	merged := make(map[string]string, len(kb.vars))
	for k, v := range kb.vars {
		merged[k] = v
	}
	for k, v := range vars {
		if _, known := merged[k]; known && v != "" {
			merged[k] = v
		}
	}
	c := *kb
	c.vars = merged
	c.fill = kb.replacer(merged)
	return &c
}

// Len returns the number of Japanese entries (every language's entries are
// meant to mirror Japanese).
func (kb *KB) Len() int { return len(kb.langs[koe.Japanese].entries) }

// IDs returns the entry ids of lang, sorted.
func (kb *KB) IDs(lang koe.Lang) []string {
	ix := kb.langs[lang]
	if ix == nil {
		return nil
	}
	ids := make([]string, len(ix.entries))
	for i, e := range ix.entries {
		ids[i] = e.id
	}
	return ids
}

// Entry returns the entry id in lang (falling back to Japanese when lang
// has no such entry), with Confidence 1; ok is false when neither has it.
func (kb *KB) Entry(lang koe.Lang, id string) (Match, bool) {
	for _, l := range []koe.Lang{lang, koe.Japanese} {
		ix := kb.langs[l]
		if ix == nil {
			continue
		}
		if i, ok := ix.byID[id]; ok {
			m := kb.match(ix, i)
			m.Confidence = 1
			return m, true
		}
	}
	return Match{}, false
}

func (kb *KB) match(ix *index, i int) Match {
	e := ix.entries[i]
	m := Match{ID: e.id, Question: e.variants[0], Answer: kb.fill.Replace(e.answer), Link: kb.fill.Replace(e.link)}
	for _, f := range e.follow {
		if j, ok := ix.byID[f]; ok {
			m.FollowUps = append(m.FollowUps, ix.entries[j].variants[0])
		}
	}
	return m
}
