package survey

import "testing"

func TestParseScore(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"8", 8, true},
		{"８", 8, true},
		{"8点", 8, true},
		{"８点です", 8, true},
		{"８点です。", 8, true},
		{" 10 ", 10, true},
		{"10点満点", 10, true},
		{"0", 0, true},
		{"０点", 0, true},
		{"7くらい", 7, true},
		{"7点くらいです", 7, true},
		{"八点", 8, true},
		{"十", 10, true},
		{"5 points", 5, true},
		{"9/10", 9, true},
		{"3pt", 3, true},
		{"11", 0, false},
		{"-1", 0, false},
		{"+5", 0, false},
		{"100", 0, false},
		{"点", 0, false},
		{"", 0, false},
		{"うーん", 0, false},
		{"8月に事故がありました", 0, false},
		{"AR-20261122-7F3K", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseScore(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseScore(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestScoreData(t *testing.T) {
	for n := 0; n <= 10; n++ {
		id, got, ok := parseScoreData(scoreData("S-20261122-7F3K", n))
		if !ok || id != "S-20261122-7F3K" || got != n {
			t.Errorf("round trip of %d: %q %d %v", n, id, got, ok)
		}
	}
	for _, bad := range []string{"", "nps:", "nps:S-1", "nps::5", "nps:S-1:11", "nps:S-1:x", "survey:sat:5", "survey:skip", "menu:feedback"} {
		if _, _, ok := parseScoreData(bad); ok {
			t.Errorf("parseScoreData(%q) accepted", bad)
		}
	}
}

func TestBandOf(t *testing.T) {
	want := []Band{Detractor, Detractor, Detractor, Detractor, Detractor, Detractor, Detractor, Passive, Passive, Promoter, Promoter}
	for n, w := range want {
		if got := BandOf(n); got != w {
			t.Errorf("BandOf(%d) = %s, want %s", n, got, w)
		}
	}
}

func TestStartNoteRoundTrip(t *testing.T) {
	// parseNote reads what StartNote writes.
	tp, exp := parseNote("touchpoint=renewal expires=2026-11-29T01:00:00Z")
	if tp != "renewal" || exp.IsZero() || exp.Hour() != 1 {
		t.Errorf("parseNote = %q %v", tp, exp)
	}
	if tp, exp := parseNote(""); tp != "" || !exp.IsZero() {
		t.Errorf("parseNote(\"\") = %q %v", tp, exp)
	}
}
