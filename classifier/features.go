package classifier

import "unicode/utf8"

// featureConfig says which features a model uses; it is stored in the model
// file so that training and classification always agree.
type featureConfig struct {
	// MinN and MaxN bound the character n-grams taken from the normalised
	// text with a start and an end mark.
	MinN, MaxN int
	// Words adds ASCII word unigrams and bigrams (for English text).
	Words bool
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	markStart = '\x02'
	markEnd   = '\x03'
	wordSeed  = 0x9e3779b97f4a7c15
)

// extract appends the hashed features of a normalised text to dst and
// returns it together with the scratch rune buffer for reuse. A feature
// that occurs twice is appended twice.
func (fc featureConfig) extract(dst []uint64, runes []rune, text string) ([]uint64, []rune) {
	runes = runes[:0]
	runes = append(runes, markStart)
	for _, r := range text {
		runes = append(runes, r)
	}
	runes = append(runes, markEnd)
	for i := range runes {
		h := uint64(fnvOffset)
		for n := 1; n <= fc.MaxN && i+n <= len(runes); n++ {
			h ^= uint64(runes[i+n-1])
			h *= fnvPrime
			if n >= fc.MinN {
				if n == 1 && (runes[i] == markStart || runes[i] == markEnd) {
					continue
				}
				dst = append(dst, mix(h, uint64(n)))
			}
		}
	}
	if fc.Words {
		dst = appendWords(dst, text)
	}
	return dst, runes
}

// appendWords appends ASCII word unigrams and bigrams.
func appendWords(dst []uint64, text string) []uint64 {
	var prev uint64
	havePrev := false
	i := 0
	for i < len(text) {
		c := text[i]
		if !isWordByte(c) {
			if c >= utf8.RuneSelf {
				// A non-ASCII character ends a run of words.
				havePrev = false
			}
			i++
			continue
		}
		j := i
		h := uint64(fnvOffset ^ wordSeed)
		for j < len(text) && isWordByte(text[j]) {
			h ^= uint64(text[j])
			h *= fnvPrime
			j++
		}
		if j-i >= 2 || (text[i] >= 'a' && text[i] <= 'z') {
			dst = append(dst, mix(h, 101))
			if havePrev {
				dst = append(dst, mix(prev*31+h, 102))
			}
			prev, havePrev = h, true
		}
		i = j
	}
	return dst
}

func isWordByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || c == '0' || c == '\''
}

// mix finalises a hash with a salt (splitmix64), so that n-grams of
// different lengths and words never share a value by construction.
func mix(h, salt uint64) uint64 {
	h ^= salt * 0xbf58476d1ce4e5b9
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
