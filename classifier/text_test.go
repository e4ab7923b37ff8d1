package classifier

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"full-width latin and digits", "ＡＢＣ１２３", "abc00"},
		{"half-width katakana", "ｱﾘｶﾞﾄｳ", "ありがとう"},
		{"katakana to hiragana", "ケガ", "けが"},
		{"repeats cut to two", "遅い！！！！！", "遅い!!"},
		{"long vowel runs", "すごーーーーい", "すごーーい"},
		{"white space collapsed", "  a \t\n b  ", "a b"},
		{"wave dash", "助かる〜～", "助かる~~"},
		{"zero width dropped", "あ\u200bり", "あり"},
		{"invalid utf-8", "a\xffb", "a\ufffdb"},
		{"circled digit", "①", "0"},
		{"dakuten composed", "か\u3099", "が"},
		{"full-width punctuation", "本当？！", "本当?!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	t.Run("huge input is cut", func(t *testing.T) {
		got := Normalize(strings.Repeat("あい", MaxTextBytes))
		if len(got) > MaxTextBytes {
			t.Errorf("len = %d, want ≤ %d", len(got), MaxTextBytes)
		}
	})
}

func TestFindUrgency(t *testing.T) {
	tests := []struct{ text, want string }{
		{"事故で骨折しました", "injury"},
		{"追突されてムチウチになりました", "injury"},
		{"救急車で運ばれました", "injury"},
		{"怪我はありません", ""},
		{"けが人はいません。車だけです", ""},
		{"ケガなしです", ""},
		{"Nobody was hurt, just a dent.", ""},
		{"My son was injured in the crash", "injury"},
		{"弁護士に相談します", "legal"},
		{"弁護士費用特約は使えますか", ""},
		{"訴えますよ", "legal"},
		{"I will sue your company", "legal"},
		{"About the issue you raised", ""},
		{"I'll sue your company", "legal"},
		{"金融庁に報告します", "regulator"},
		{"消費生活センターに相談しました", "regulator"},
		{"I'm filing a complaint with the FSA", "regulator"},
		{"SNSに書き込みます", "public"},
		{"SNSで見て加入しました", ""},
		{"ネットで晒します", "public"},
		{"I'll post about this on social media", "public"},
		{"事故で怪我をしたので弁護士に相談し、金融庁にも言います。SNSで拡散します", "injury,legal,regulator,public"},
		{"住所変更をお願いします", ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := strings.Join(FindUrgency(tt.text), ","); got != tt.want {
				t.Errorf("FindUrgency(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in string
		gone     []string // must not survive
		kept     []string // must survive
	}{
		{"mobile", "電話番号は090-1234-5678です", []string{"1234", "5678"}, []string{"電話番号"}},
		{"full-width phone", "０３－１２３４－５６７８に電話ください", []string{"1234"}, []string{"電話ください"}},
		{"bare mobile", "09012345678まで", []string{"09012345678"}, nil},
		{"email", "連絡は taro.yamada@example.co.jp へ", []string{"taro.yamada", "example.co.jp"}, []string{"[EMAIL]"}},
		{"policy number", "証券番号はAB12345678です", []string{"AB12345678"}, []string{"証券番号"}},
		{"digits policy number", "証券番号 123456789 の件", []string{"123456789"}, nil},
		{"reference", "受付番号AR-20261122-7F3Kについて", []string{"20261122", "7F3K"}, nil},
		{"date of birth", "生年月日は1985年4月3日です", []string{"1985", "4月3日"}, []string{"生年月日"}},
		{"era date", "昭和60年4月3日生まれ", []string{"昭和60年"}, nil},
		{"slash date", "DOB 1985/04/03", []string{"1985/04/03"}, nil},
		{"postcode", "〒100-0005 へ送ってください", []string{"100-0005"}, nil},
		{"address", "住所は東京都千代田区丸の内1-2-3です", []string{"千代田区丸の内1-2-3"}, nil},
		{"english address", "I live at 221 Baker Street now", []string{"221 Baker Street"}, nil},
		{"name with honorific", "担当の佐藤様にお世話になりました", []string{"佐藤"}, []string{"担当"}},
		{"katakana name", "スズキさんが対応してくれました", []string{"スズキ"}, nil},
		{"announced name", "名前は山田太郎です", []string{"山田太郎"}, nil},
		{"english name", "Hello, my name is John Smith.", []string{"John Smith"}, nil},
		{"role kept", "担当者さんの対応が遅いです。代理店さんにも連絡しました", nil, []string{"担当者さん", "代理店さん"}},
		{"japanese self-introduction", "田中一郎と申します。事故の件です", []string{"田中一郎"}, []string{"事故の件"}},
		{"feelings kept", "私は不満です。I am very angry. This is terrible.", nil, []string{"不満", "angry", "terrible"}},
		{"common words kept", "同様の件で、ご苦労様です", nil, []string{"同様", "ご苦労様"}},
		{"amount kept", "修理代は7万円でした", nil, []string{"7万円"}},
		{"month day kept", "4月3日に事故がありました", nil, []string{"4月3日"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact(tt.in)
			for _, s := range tt.gone {
				if strings.Contains(got, s) {
					t.Errorf("Redact(%q) = %q, still contains %q", tt.in, got, s)
				}
			}
			for _, s := range tt.kept {
				if !strings.Contains(got, s) {
					t.Errorf("Redact(%q) = %q, lost %q", tt.in, got, s)
				}
			}
		})
	}
}

func TestLRU(t *testing.T) {
	c := newLRU(2)
	k := func(b byte) [32]byte { return [32]byte{b} }
	c.put(k(1), Result{Kind: "a"})
	c.put(k(2), Result{Kind: "b"})
	if _, ok := c.get(k(1)); !ok { // 1 becomes most recent
		t.Fatal("key 1 missing")
	}
	c.put(k(3), Result{Kind: "c"}) // evicts 2
	if _, ok := c.get(k(2)); ok {
		t.Error("key 2 survived eviction")
	}
	for _, b := range []byte{1, 3} {
		if _, ok := c.get(k(b)); !ok {
			t.Errorf("key %d missing", b)
		}
	}
	if n := c.len(); n != 2 {
		t.Errorf("len = %d, want 2", n)
	}
	c.put(k(3), Result{Kind: "d"})
	if r, _ := c.get(k(3)); r.Kind != "d" {
		t.Errorf("updated value = %q, want d", r.Kind)
	}
}
