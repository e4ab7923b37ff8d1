package faq

import (
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/koehq/koe"
	"github.com/koehq/koe/classifier"
)

// Threshold is the confidence below which a match should not be given as
// the answer: the dialog offers the top choices or a person instead.
// Confidence estimates the probability that the best match is the right
// entry if half of the questions that reach the FAQ are outside it (the
// prior params.conf is fitted with; dev.tsv itself has one in six), so 0.5
// answers when right is more likely than not under that cautious prior.
const Threshold = 0.5

// params are the ranker's weights. They are chosen on testdata/dev.tsv
// (TestDevGrid, TestCalibration), never on the evaluation set.
type params struct {
	k1, b    float64 // BM25 saturation and length normalisation
	answer   float64 // weight of answer text relative to a question variant
	hiragana float64 // weight of n-grams made only of hiragana
	trigram  float64 // weight of a character trigram relative to a bigram
	kanji    float64 // weight of a single kanji
	// reading is the weight, relative to a question variant, of the
	// n-grams of a variant's kana reading (kb/ja.readings) that the
	// variant's own text lacks, so that a question typed in kana
	// ("じこのれんらく") meets the entry written in kanji.
	reading float64
	// conf are the logistic confidence model's weights: bias, coverage
	// (share of the question's weighted IDF the entry matches), margin
	// over the runner-up, log(1+score). Fitted on dev.tsv by
	// TestCalibration.
	conf [4]float64
}

var defaultParams = params{
	k1: 1.2, b: 0.5, answer: 0.1, hiragana: 0.5, trigram: 0.5, kanji: 1.0, reading: 0.5,
	conf: [4]float64{-6.19, 2.91, 0.83, 1.32},
}

// index is the inverted index of one language.
type index struct {
	entries []*entry
	byID    map[string]int
	post    map[string][]posting
	docLen  []float64
	avgLen  float64
	n       float64
	pool    sync.Pool // *scratch
}

type posting struct {
	doc int32
	tf  float32
}

// scratch holds per-query accumulators, reused through the pool so a query
// allocates in proportion to the entries it touches, not to the index.
type scratch struct {
	score, cov []float64
	touched    []int32
}

func (kb *KB) build(entries []*entry) *index {
	ix := &index{entries: entries, byID: make(map[string]int, len(entries)), post: make(map[string][]posting), docLen: make([]float64, len(entries)), n: float64(len(entries))}
	var total float64
	for i, e := range entries {
		ix.byID[e.id] = i
		tf := make(map[string]float64)
		variantTerms := make(map[string]map[string]float64, len(e.variants))
		for _, v := range e.variants {
			vt := kb.terms(v)
			variantTerms[v] = vt
			for t := range vt {
				tf[t]++
			}
		}
		for t := range kb.terms(e.answer) {
			tf[t] += kb.p.answer
		}
		for _, r := range e.readings {
			if kb.p.reading == 0 {
				break
			}
			// Only what the reading adds: the kana of the kanji, not the
			// particles and endings the variant already has.
			own, ok := variantTerms[r.variant]
			if !ok { // a stale reading: its variant has since been edited
				own = kb.terms(r.variant)
			}
			for t := range kb.terms(r.kana) {
				if _, ok := own[t]; !ok {
					tf[t] += kb.p.reading
				}
			}
		}
		var dl float64
		for t, f := range tf {
			ix.post[t] = append(ix.post[t], posting{doc: int32(i), tf: float32(f)})
			dl += f
		}
		ix.docLen[i] = dl
		total += dl
	}
	if len(entries) > 0 {
		ix.avgLen = total / float64(len(entries))
	}
	size := len(entries)
	ix.pool.New = func() any { return &scratch{score: make([]float64, size), cov: make([]float64, size)} }
	return ix
}

func (ix *index) idf(df int) float64 {
	return math.Log(1 + (ix.n-float64(df)+0.5)/(float64(df)+0.5))
}

// Search returns up to k entries of the knowledge base for question, best
// first (by Score, then by id), each with a Confidence in [0, 1]; nil when
// k < 1 or nothing matches. The entries searched are lang's, except that a
// question written only in Latin letters is searched in English and one
// with Japanese characters in Japanese (so the answer comes in the
// language the customer wrote in); a language without entries falls back
// to Japanese. Any input is accepted; only its first
// classifier.MaxTextBytes bytes are looked at. Safe for concurrent use.
func (kb *KB) Search(lang koe.Lang, question string, k int) []Match {
	ranked := kb.rank(lang, question, k)
	out := make([]Match, len(ranked))
	for i, r := range ranked {
		out[i] = r.Match
		out[i].Confidence = r.confidence(kb.p.conf)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// ranked is a match with the inputs of its confidence.
type ranked struct {
	Match
	features
}

// features are the inputs of the confidence model.
type features struct {
	coverage, margin, logScore float64
}

// confidence is the logistic model w over f, in [0, 1].
func (f features) confidence(w [4]float64) float64 {
	z := w[0] + w[1]*f.coverage + w[2]*f.margin + w[3]*f.logScore
	c := 1 / (1 + math.Exp(-z))
	if math.IsNaN(c) {
		return 0
	}
	return c
}

// rank is Search without the confidence.
func (kb *KB) rank(lang koe.Lang, question string, k int) []ranked {
	if k < 1 {
		return nil
	}
	q := normalize(question)
	ix := kb.langs[kb.searchLang(lang, q)]
	if ix == nil || len(ix.entries) == 0 {
		return nil
	}
	qt := kb.terms(q)
	if len(qt) == 0 {
		return nil
	}
	s := ix.pool.Get().(*scratch)
	defer func() {
		for _, d := range s.touched {
			s.score[d], s.cov[d] = 0, 0
		}
		s.touched = s.touched[:0]
		ix.pool.Put(s)
	}()
	var qinfo float64
	for t, tw := range qt {
		ps := ix.post[t]
		w := ix.idf(len(ps)) * tw
		qinfo += w
		for _, p := range ps {
			if s.score[p.doc] == 0 {
				s.touched = append(s.touched, p.doc)
			}
			tf := float64(p.tf)
			s.score[p.doc] += w * tf * (kb.p.k1 + 1) / (tf + kb.p.k1*(1-kb.p.b+kb.p.b*ix.docLen[p.doc]/ix.avgLen))
			s.cov[p.doc] += w
		}
	}
	// Keep the best max(k, 2) documents: the second is needed for the margin.
	keep := max(k, 2)
	top := make([]int32, 0, keep+1)
	better := func(a, c int32) bool {
		if s.score[a] != s.score[c] {
			return s.score[a] > s.score[c]
		}
		return ix.entries[a].id < ix.entries[c].id
	}
	for _, d := range s.touched {
		if len(top) == keep && !better(d, top[keep-1]) {
			continue
		}
		i := sort.Search(len(top), func(i int) bool { return better(d, top[i]) })
		top = append(top, 0)
		copy(top[i+1:], top[i:])
		top[i] = d
		if len(top) > keep {
			top = top[:keep]
		}
	}
	out := make([]ranked, 0, min(k, len(top)))
	for i, d := range top {
		if i == k {
			break
		}
		var other float64
		switch {
		case i == 0 && len(top) > 1:
			other = s.score[top[1]]
		case i > 0:
			other = s.score[top[0]]
		}
		m := kb.match(ix, int(d))
		m.Score = s.score[d]
		f := features{coverage: s.cov[d] / qinfo, margin: (m.Score - other) / m.Score, logScore: math.Log1p(m.Score)}
		out = append(out, ranked{Match: m, features: f})
	}
	return out
}

// searchLang picks the index for a normalised question.
func (kb *KB) searchLang(lang koe.Lang, q string) koe.Lang {
	var jp, latin bool
	for _, r := range q {
		switch {
		case isJapanese(r):
			jp = true
		case r >= 'a' && r <= 'z':
			latin = true
		}
	}
	switch {
	case jp:
		lang = koe.Japanese
	case latin && kb.langs[koe.English] != nil:
		lang = koe.English
	}
	if kb.langs[lang] == nil {
		lang = koe.Japanese
	}
	return lang
}

// normalize folds a text with classifier.Normalize (NFKC, width, katakana
// to hiragana, lower case, digits to 0) and drops the long-vowel mark's
// variants so that ろーどさーびす and ろどさびす stay close.
func normalize(s string) string {
	return classifier.Normalize(s)
}

// terms returns the index terms of a text with their query weights: after
// normalisation and synonym expansion, the single kanji, character bigrams
// and trigrams of each run of Japanese characters (n-grams made only of
// hiragana, such as particles and endings like "ですか", weigh less), and
// for Latin text the stemmed words (stop words dropped) and, for words of
// four letters or more, their character trigrams (for typos).
func (kb *KB) terms(text string) map[string]float64 {
	t := kb.synonyms.expand(normalize(text))
	out := make(map[string]float64)
	var run []rune
	var word []rune
	ngram := func(g []rune, w float64) {
		if allHiragana(g) {
			w *= kb.p.hiragana
		}
		out[string(g)] = w
	}
	flushRun := func() {
		for i, r := range run {
			if unicode.Is(unicode.Han, r) {
				out[string(r)] = kb.p.kanji
			}
			if i+2 <= len(run) {
				ngram(run[i:i+2], 1)
			}
			if i+3 <= len(run) {
				ngram(run[i:i+3], kb.p.trigram)
			}
		}
		run = run[:0]
	}
	flushWord := func() {
		if len(word) > 0 {
			w := string(word)
			if !stopWords[w] {
				w = stem(w)
				out["w:"+w] = 1
				if len(w) >= 4 {
					p := "#" + w + "#"
					for i := 0; i+3 <= len(p); i++ {
						out["t:"+p[i:i+3]] = 1
					}
				}
			}
			word = word[:0]
		}
	}
	for _, r := range t {
		switch {
		case isJapanese(r):
			flushWord()
			run = append(run, r)
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			flushRun()
			word = append(word, r)
		default:
			flushRun()
			flushWord()
		}
	}
	flushRun()
	flushWord()
	return out
}

func allHiragana(g []rune) bool {
	for _, r := range g {
		if !(r >= 0x3041 && r <= 0x3096) {
			return false
		}
	}
	return true
}

func isJapanese(r rune) bool {
	return r >= 0x3041 && r <= 0x3096 || r >= 0x30A1 && r <= 0x30FA || r == 0x30FC || r == 0x3005 ||
		unicode.Is(unicode.Han, r)
}

// stem strips common English suffixes (a light Porter-like step).
func stem(w string) string {
	for _, suf := range []string{"ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "s"} {
		if len(w) > len(suf)+2 && strings.HasSuffix(w, suf) {
			w = w[:len(w)-len(suf)]
			if suf == "ies" || suf == "ied" {
				w += "y"
			}
			return w
		}
	}
	return w
}

var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "i": true, "me": true, "my": true, "we": true, "our": true, "you": true,
	"your": true, "it": true, "is": true, "are": true, "was": true, "be": true, "do": true, "does": true, "did": true,
	"to": true, "of": true, "in": true, "on": true, "for": true, "and": true, "or": true, "can": true, "could": true,
	"how": true, "what": true, "when": true, "where": true, "which": true, "if": true, "there": true, "this": true,
	"that": true, "with": true, "please": true, "want": true, "would": true, "like": true, "should": true, "have": true,
	"has": true, "will": true, "from": true, "at": true, "by": true, "about": true, "so": true, "am": true, "any": true,
	"get": true, "need": true, "hi": true, "hello": true, "tell": true, "know": true,
}
