package jpinput

import "testing"

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"full-width digits", "０９０１２３４５６７８", "09012345678"},
		{"full-width letters", "ＡＢｃ", "ABc"},
		{"ideographic space collapsed", "  昨日\u3000\u3000の 夕方  ", "昨日 の 夕方"},
		{"tabs and newlines", "a\t\nb", "a b"},
		{"long vowel between digits", "090ー1234ー5678", "090-1234-5678"},
		{"half-width long vowel", "090ｰ1234ｰ5678", "090-1234-5678"},
		{"minus sign", "03−1234−5678", "03-1234-5678"},
		{"en and em dash", "03–1234—5678", "03-1234-5678"},
		{"hyphen and non-breaking hyphen", "03‐1234‑5678", "03-1234-5678"},
		{"full-width hyphen-minus", "０３－１２３４", "03-1234"},
		{"katakana word untouched", "コーヒー", "コーヒー"},
		{"katakana before digit untouched", "コピー3枚", "コピー3枚"},
		{"long vowel next to letter and digit", "AB ー 1234", "AB - 1234"},
		{"wave dash", "14時〜16時", "14時~16時"},
		{"full-width tilde", "14時～16時", "14時~16時"},
		{"zero-width removed", "12\u200b34", "1234"},
		{"circled digit", "①", "1"},
		{"era ligature", "㋿8年", "令和8年"},
		{"half-width katakana widened", "ｶﾀｶﾅ", "カタカナ"},
		{"empty", "", ""},
		{"spaces only", " \u3000 ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := Normalize(Normalize(tt.in)); got != tt.want {
				t.Errorf("Normalize not idempotent on %q: %q", tt.in, got)
			}
		})
	}
}

func TestKanjiNumerals(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"三時", "3時"},
		{"十四時", "14時"},
		{"十一月三日", "11月3日"},
		{"二十三時五十九分", "23時59分"},
		{"二〇二六年", "2026年"},
		{"百", "100"},
		{"千九百八十九", "1989"},
		{"十", "10"},
		{"時", "時"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := kanjiNumerals(tt.in); got != tt.want {
				t.Errorf("kanjiNumerals(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
