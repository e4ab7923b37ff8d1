package inquiry

import (
	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs/faq"
)

// Match is one FAQ entry the ranker found for a question (faq.Match).
type Match = faq.Match

// Searcher is the knowledge base the dialog asks: *faq.KB. Both methods
// must be pure (in-memory, no I/O) and safe for concurrent use: they run
// inside dialog steps.
type Searcher interface {
	// Search returns at most k entries for question in lang, best first.
	Search(lang koe.Lang, question string, k int) []Match
	// Entry returns the entry with id in lang.
	Entry(lang koe.Lang, id string) (Match, bool)
}

var _ Searcher = (*faq.KB)(nil)
