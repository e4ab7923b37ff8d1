package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/width"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot"
)

// EnvPoliciesInForce is the number of policies in force that the complaint
// rate (苦情発生率, per 10,000 policies) is computed against; unset or 0:
// no rate.
const EnvPoliciesInForce = "KOE_POLICIES_IN_FORCE"

// runReport is `koe report <what>`; the only report is `voices`.
func runReport(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlagSet("report", "report voices|nps [flags]   (koe report voices -h, koe report nps -h for the flags)", e)
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		fs.Usage()
		return errUsage
	}
	switch args[0] {
	case "voices":
		return runReportVoices(ctx, args[1:], e)
	case "nps":
		return runReportNPS(ctx, args[1:], e)
	}
	fmt.Fprintf(e.stderr, "koe report: unknown report %q (want voices or nps)\n", args[0])
	return errUsage
}

// runReportVoices prints the voice counts by kind × topic, quarter by
// quarter, in the layout insurers publish.
func runReportVoices(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("report voices", "report voices [-from DATE] [-to DATE] [-format table|csv|json] [-policies N] [-store S]", e)
	fromS := fs.String("from", "", "start of the period: YYYY-MM-DD (Asia/Tokyo) or RFC 3339 (default: the start of the quarter three quarters back)")
	toS := fs.String("to", "", "end of the period: YYYY-MM-DD (that day included) or RFC 3339 (excluded) (default: now)")
	format := fs.String("format", "table", "output: table (Japanese headings), csv or json")
	policies := fs.Int("policies", -1, "policies in force, for the complaint rate per 10,000 policies (default $"+EnvPoliciesInForce+"; 0: none)")
	store := fs.String("store", "", "store (overrides KOE_STORE)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch *format {
	case "table", "csv", "json":
	default:
		fmt.Fprintf(e.stderr, "-format: want table, csv or json\n")
		return errUsage
	}
	from, err := bot.ParseReportTime(*fromS, false)
	if err != nil {
		return fmt.Errorf("-from: %w", err)
	}
	to, err := bot.ParseReportTime(*toS, true)
	if err != nil {
		return fmt.Errorf("-to: %w", err)
	}
	if to.IsZero() {
		to = time.Now()
	}
	if from.IsZero() {
		from, _ = bot.DefaultReportPeriod(to)
	}
	if !to.After(from) {
		return fmt.Errorf("-from must be before -to")
	}
	n := *policies
	if n < 0 {
		n = 0
		if v := strings.TrimSpace(e.getenv(EnvPoliciesInForce)); v != "" {
			if n, err = strconv.Atoi(v); err != nil || n < 0 {
				return &ConfigError{EnvPoliciesInForce, "want a whole number ≥ 0"}
			}
		}
	}

	_, st, _, err := openToolStore(ctx, e, *store)
	if err != nil {
		return err
	}
	defer st.Close()
	voices, err := st.Voices(ctx, koe.VoiceFilter{From: from, To: to})
	if err != nil {
		return fmt.Errorf("report voices: %w", err)
	}
	rep := bot.VoiceReport(voices, from, to, n)
	switch *format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "csv":
		return writeReportCSV(e.stdout, rep)
	default:
		return writeReportTable(e.stdout, rep)
	}
}

// writeReportTable prints the report as the tables insurers publish:
// complaints by topic per quarter with 構成比, the complaint rate, then all
// voices by kind per quarter and by kind × topic for the whole period.
func writeReportTable(w io.Writer, rep bot.Report) error {
	tw := &textTable{}
	fmt.Fprintf(w, "お客さまの声 集計　期間 %s 〜 %s（%s）\n", day(rep.Total.From), lastDay(rep.Total), rep.TimeZone)
	if rep.Unknown > 0 {
		fmt.Fprintf(w, "（種類不明の声 %d 件は集計外）\n", rep.Unknown)
	}
	tables := append(append([]bot.ReportTable{}, rep.Quarters...), rep.Total)
	complaints := func(t bot.ReportTable) bot.KindRow { return kindRow(t, koe.VoiceComplaint) }

	// 1. Complaints by topic, quarter by quarter, with 構成比.
	fmt.Fprintln(w, "\n■ 苦情件数（項目別・四半期別）　件数（構成比）")
	head := []string{"項目"}
	for _, t := range tables {
		head = append(head, tableLabel(t))
	}
	tw.row(head...)
	for i, tp := range bot.ReportTopics {
		cells := []string{bot.TopicLabel(tp)}
		for _, t := range tables {
			c := complaints(t).Topics[i]
			cells = append(cells, countShare(c.Count, c.KindShare))
		}
		tw.row(cells...)
	}
	cells := []string{"合計"}
	for _, t := range tables {
		r := complaints(t)
		cells = append(cells, countShare(r.Count, bot.Percent(r.Count, r.Count)))
	}
	tw.row(cells...)
	if rep.PoliciesInForce > 0 {
		cells := []string{"発生率（1万件あたり）"}
		for _, t := range tables {
			cells = append(cells, fmt.Sprintf("%.2f", t.ComplaintRate.Per10000))
		}
		tw.row(cells...)
	}
	tw.flush(w)
	if rep.PoliciesInForce > 0 {
		fmt.Fprintf(w, "発生率 = 苦情件数 ÷ 保有契約件数 %s件 × 10,000\n", thousands(rep.PoliciesInForce))
	}

	// 2. All voices by kind, quarter by quarter.
	fmt.Fprintln(w, "\n■ お客さまの声の件数（種類別・四半期別）　件数（構成比）")
	tw.row(head...)
	for i, k := range bot.ReportKinds {
		cells := []string{bot.KindLabel(k)}
		for _, t := range tables {
			r := t.Kinds[i]
			cells = append(cells, countShare(r.Count, r.Share))
		}
		tw.row(cells...)
	}
	cells = []string{"合計"}
	for _, t := range tables {
		cells = append(cells, countShare(t.Count, bot.Percent(t.Count, t.Count)))
	}
	tw.row(cells...)
	tw.flush(w)

	// 3. The period by kind × topic.
	fmt.Fprintln(w, "\n■ お客さまの声の件数（種類別・項目別、期間合計）")
	head = []string{"項目"}
	for _, k := range bot.ReportKinds {
		head = append(head, bot.KindLabel(k))
	}
	tw.row(append(head, "合計", "構成比")...)
	for i, tp := range bot.ReportTopics {
		cells := []string{bot.TopicLabel(tp)}
		for _, r := range rep.Total.Kinds {
			cells = append(cells, strconv.Itoa(r.Topics[i].Count))
		}
		col := rep.Total.Topics[i]
		tw.row(append(cells, strconv.Itoa(col.Count), pct(col.Share))...)
	}
	cells = []string{"合計"}
	shares := []string{"構成比"}
	for _, r := range rep.Total.Kinds {
		cells = append(cells, strconv.Itoa(r.Count))
		shares = append(shares, pct(r.Share))
	}
	tw.row(append(cells, strconv.Itoa(rep.Total.Count), pct(bot.Percent(rep.Total.Count, rep.Total.Count)))...)
	tw.row(append(shares, pct(bot.Percent(rep.Total.Count, rep.Total.Count)), "")...)
	tw.flush(w)
	_, err := fmt.Fprintln(w, "\n構成比は小数第2位を四捨五入しているため、合計が100%にならない場合があります。")
	return err
}

// writeReportCSV writes one line per table (quarters, then 合計) × kind ×
// topic, with subtotals per kind (項目 合計) and per table (種類 合計); the
// complaint rate is on each table's 苦情 / 合計 line.
func writeReportCSV(w io.Writer, rep bot.Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"期間", "開始", "終了", "種類", "項目", "件数", "構成比_種類内(%)", "構成比_全体(%)", "発生率_1万件あたり"})
	tables := append(append([]bot.ReportTable{}, rep.Quarters...), rep.Total)
	for _, t := range tables {
		label, from, to := tableLabel(t), day(t.From), lastDay(t)
		for _, r := range t.Kinds {
			for _, c := range r.Topics {
				_ = cw.Write([]string{label, from, to, r.Label, c.Label, strconv.Itoa(c.Count), num(c.KindShare), num(c.Share), ""})
			}
			rate := ""
			if r.Kind == koe.VoiceComplaint && t.ComplaintRate != nil {
				rate = strconv.FormatFloat(t.ComplaintRate.Per10000, 'f', 2, 64)
			}
			_ = cw.Write([]string{label, from, to, r.Label, "合計", strconv.Itoa(r.Count), num(bot.Percent(r.Count, r.Count)), num(r.Share), rate})
		}
		_ = cw.Write([]string{label, from, to, "合計", "合計", strconv.Itoa(t.Count), "", num(bot.Percent(t.Count, t.Count)), ""})
	}
	cw.Flush()
	return cw.Error()
}

func kindRow(t bot.ReportTable, k koe.VoiceKind) bot.KindRow {
	for _, r := range t.Kinds {
		if r.Kind == k {
			return r
		}
	}
	return bot.KindRow{}
}

func tableLabel(t bot.ReportTable) string {
	if t.Label == "total" {
		return "合計"
	}
	return t.Label
}

func day(t time.Time) string { return t.In(bot.ReportZone()).Format("2006-01-02") }

// lastDay is the last day a table covers (its To is exclusive).
func lastDay(t bot.ReportTable) string {
	if !t.To.After(t.From) {
		return day(t.From)
	}
	return day(t.To.Add(-time.Nanosecond))
}

func countShare(n int, share float64) string { return fmt.Sprintf("%d (%s)", n, pct(share)) }
func pct(share float64) string               { return num(share) + "%" }
func num(f float64) string                   { return strconv.FormatFloat(f, 'f', 1, 64) }

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// textTable aligns columns by display width (full-width characters count
// two), which text/tabwriter does not. The first column is left-aligned,
// the others right-aligned.
type textTable struct{ rows [][]string }

func (t *textTable) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *textTable) flush(w io.Writer) {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	for _, r := range t.rows {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-displayWidth(c))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	t.rows = nil
}

func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
