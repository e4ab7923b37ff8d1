package faq

import "strings"

// synonymIndex finds the synonym groups a text mentions in one pass: a
// byte trie of every group's phrases, walked from each position of the
// text. Cost follows the text's length times the depth matched, not the
// number of phrases (there are hundreds; one substring search each was
// half of the cost of loading the knowledge base and of a search).
type synonymIndex struct {
	groups [][]string // normalised phrases; the first is canonical
	nodes  []trieNode
}

type trieNode struct {
	next map[byte]int32
	ends []phraseEnd // phrases that end at this node
}

// phraseEnd is a phrase of group; a phrase beginning (ending) with a Latin
// letter or digit must start (end) at a word boundary, unless it was
// written with a trailing "*" (a word prefix).
type phraseEnd struct {
	group              int
	canonical          bool
	wordStart, wordEnd bool
}

func newSynonymIndex(groups [][]string) *synonymIndex {
	ix := &synonymIndex{groups: groups, nodes: []trieNode{{}}}
	for g, phrases := range groups {
		for i, p := range phrases {
			prefix := strings.HasSuffix(p, "*")
			p = strings.TrimSuffix(p, "*")
			if p == "" {
				continue
			}
			n := int32(0)
			for j := 0; j < len(p); j++ {
				next, ok := ix.nodes[n].next[p[j]]
				if !ok {
					next = int32(len(ix.nodes))
					ix.nodes = append(ix.nodes, trieNode{})
					if ix.nodes[n].next == nil {
						ix.nodes[n].next = make(map[byte]int32)
					}
					ix.nodes[n].next[p[j]] = next
				}
				n = next
			}
			ix.nodes[n].ends = append(ix.nodes[n].ends, phraseEnd{
				group: g, canonical: i == 0,
				wordStart: isWordByte(p[0]), wordEnd: !prefix && isWordByte(p[len(p)-1]),
			})
		}
	}
	return ix
}

// expand appends to t the canonical phrase of every group one of whose
// other phrases occurs in t while the canonical does not, in group order.
func (ix *synonymIndex) expand(t string) string {
	if ix == nil || len(ix.groups) == 0 {
		return t
	}
	const canonical, other = 1, 2
	var found map[int]uint8
	for i := 0; i < len(t); i++ {
		n := int32(0)
		for j := i; j < len(t); j++ {
			next, ok := ix.nodes[n].next[t[j]]
			if !ok {
				break
			}
			n = next
			for _, e := range ix.nodes[n].ends {
				if e.wordStart && i > 0 && isWordByte(t[i-1]) {
					continue
				}
				if e.wordEnd && j+1 < len(t) && isWordByte(t[j+1]) {
					continue
				}
				if found == nil {
					found = make(map[int]uint8)
				}
				if e.canonical {
					found[e.group] |= canonical
				} else {
					found[e.group] |= other
				}
			}
		}
	}
	var extra []string
	for g, phrases := range ix.groups {
		if found[g] == other {
			extra = append(extra, strings.TrimSuffix(phrases[0], "*"))
		}
	}
	if len(extra) == 0 {
		return t
	}
	return t + " " + strings.Join(extra, " ")
}

func isWordByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
