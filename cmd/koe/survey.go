package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot"
)

// Environment variables of surveys.
const (
	// EnvSurveyFatigue is the fatigue budget: no survey to a user who was
	// sent one within it (default 30d).
	EnvSurveyFatigue = "KOE_SURVEY_FATIGUE"
	// EnvSurveyExpiry is how long a survey accepts an answer (default 7d).
	EnvSurveyExpiry = "KOE_SURVEY_EXPIRY"
	// EnvSurveyDelay is how long after an accident report is closed the
	// claim survey is sent (default 3d).
	EnvSurveyDelay = "KOE_SURVEY_DELAY"
)

// DefaultSurveyDelay is the default of EnvSurveyDelay.
const DefaultSurveyDelay = 72 * time.Hour

// SurveySettings are the survey durations from the environment.
type SurveySettings struct {
	Fatigue, Expiry, Delay time.Duration
}

// loadSurveySettings reads EnvSurveyFatigue, EnvSurveyExpiry and
// EnvSurveyDelay: a Go duration ("36h") or a number of days ("30d"),
// positive (the delay may be 0); unset takes the default. A malformed value
// is a *ConfigError.
func loadSurveySettings(getenv func(string) string) (SurveySettings, error) {
	s := SurveySettings{Fatigue: bot.DefaultSurveyFatigue, Expiry: bot.DefaultSurveyExpiry, Delay: DefaultSurveyDelay}
	for _, v := range []struct {
		name    string
		dst     *time.Duration
		zeroSet bool
	}{{EnvSurveyFatigue, &s.Fatigue, false}, {EnvSurveyExpiry, &s.Expiry, false}, {EnvSurveyDelay, &s.Delay, true}} {
		raw := strings.TrimSpace(getenv(v.name))
		if raw == "" {
			continue
		}
		d, err := parseDays(raw)
		if err != nil || d < 0 || (d == 0 && !v.zeroSet) {
			return s, &ConfigError{v.name, `want a positive duration such as "30d" or "36h"`}
		}
		*v.dst = d
	}
	return s, nil
}

// parseDays parses "30d" (days) or a Go duration.
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 3650 {
			return 0, fmt.Errorf("bad number of days %q", n)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// runSurvey is `koe survey <what>`; the only action is `send`.
func runSurvey(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlagSet("survey", "survey send -user line:U… -touchpoint claim|renewal [-ref REF]   (koe survey send -h for the flags)", e)
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		fs.Usage()
		return errUsage
	}
	switch args[0] {
	case "send":
		return runSurveySend(ctx, args[1:], e)
	}
	fmt.Fprintf(e.stderr, "koe survey: unknown action %q (want send)\n", args[0])
	return errUsage
}

// runSurveySend creates a survey and queues its question in the customer's
// inbox; a `koe serve` on the same store pushes it.
func runSurveySend(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("survey send", "survey send -user line:U… -touchpoint claim|renewal [-ref REF] [-lang ja|en] [-key KEY] [-store S]", e)
	user := fs.String("user", "", "the customer's LINE user (line:U…)")
	touchpoint := fs.String("touchpoint", "", "what the survey asks about: claim (事故対応NPS) or renewal (継続NPS)")
	ref := fs.String("ref", "", "what it is about: an accident report (AR-…) or a policy (optional)")
	lang := fs.String("lang", "", "language of the questions: ja or en (default ja)")
	key := fs.String("key", "", "idempotency key: sending again with the same key sends nothing new (default: a fresh one)")
	store := fs.String("store", "", "store (overrides KOE_STORE)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	req := bot.SurveyRequest{User: koe.UserID(*user), Touchpoint: koe.Touchpoint(*touchpoint), Ref: *ref, Lang: koe.Lang(*lang), Key: *key}
	if err := bot.ValidateSurveyRequest(req); err != nil {
		fmt.Fprintf(e.stderr, "koe survey send: %s\n", strings.TrimSuffix(err.Error(), ": "+koe.ErrInvalid.Error()))
		return errUsage
	}
	cfg, st, log, err := openToolStore(ctx, e, *store)
	if err != nil {
		return err
	}
	defer st.Close()
	sender := &bot.SurveySender{Surveys: st, Follow: st, Inbox: st, Fatigue: cfg.Survey.Fatigue, Expiry: cfg.Survey.Expiry, Logger: log}
	return sendSurvey(ctx, sender, req, e.stdout)
}

// sendSurvey sends req with sender and prints the survey's id and expiry.
// A rule's refusal is returned as an error saying which rule.
func sendSurvey(ctx context.Context, sender *bot.SurveySender, req bot.SurveyRequest, w io.Writer) error {
	sv, err := sender.Send(ctx, req)
	var refused *bot.RefusedError
	switch {
	case errors.As(err, &refused):
		return fmt.Errorf("not sent (%s): %s", refused.Reason, strings.TrimPrefix(refused.Error(), "survey refused: "))
	case err != nil:
		return fmt.Errorf("survey send: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\t%s\t%s\texpires %s\n", sv.ID, sv.Touchpoint, sv.Status, sv.ExpiresAt.In(bot.ReportZone()).Format("2006-01-02 15:04 MST"))
	return err
}

// runReportNPS is `koe report nps`: the NPS per touchpoint, month by month
// and for the period, as table, csv or json. runReport calls it for "nps".
func runReportNPS(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("report nps", "report nps [-from DATE] [-to DATE] [-touchpoint claim|renewal] [-format table|csv|json] [-store S]", e)
	fromS := fs.String("from", "", "start of the period: YYYY-MM-DD (Asia/Tokyo) or RFC 3339 (default: the start of the month 11 months back)")
	toS := fs.String("to", "", "end of the period: YYYY-MM-DD (that day included) or RFC 3339 (excluded) (default: now)")
	touchpoint := fs.String("touchpoint", "", "only this touchpoint: claim or renewal (default: all)")
	format := fs.String("format", "table", "output: table (Japanese headings), csv or json")
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
	tp := koe.Touchpoint(*touchpoint)
	if tp != "" && bot.TouchpointLabel(tp) == "" {
		fmt.Fprintf(e.stderr, "-touchpoint: want claim or renewal\n")
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
		from, _ = bot.DefaultNPSPeriod(to)
	}
	if !to.After(from) {
		return fmt.Errorf("-from must be before -to")
	}

	_, st, _, err := openToolStore(ctx, e, *store)
	if err != nil {
		return err
	}
	defer st.Close()
	surveys, err := st.Surveys(ctx, koe.SurveyFilter{From: from, To: to, Touchpoint: tp})
	if err != nil {
		return fmt.Errorf("report nps: %w", err)
	}
	return writeNPS(e.stdout, bot.NPSReportOf(surveys, from, to, tp), *format)
}

// writeNPS prints rep as table, csv or json.
func writeNPS(w io.Writer, rep bot.NPSReport, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "csv":
		return writeNPSCSV(w, rep)
	default:
		return writeNPSTable(w, rep)
	}
}

// npsSections are the touchpoints a report prints: each touchpoint, then
// 全体 when there is more than one.
func npsSections(rep bot.NPSReport) []bot.NPSTouchpoint {
	out := append([]bot.NPSTouchpoint{}, rep.Touchpoints...)
	if len(rep.Touchpoints) > 1 {
		out = append(out, rep.All)
	}
	return out
}

// writeNPSTable prints one table per touchpoint: a row per month and the
// period's total, with NPS and its parts.
func writeNPSTable(w io.Writer, rep bot.NPSReport) error {
	fmt.Fprintf(w, "NPS 集計　期間 %s 〜 %s（%s、送信日で集計）\n", day(rep.All.Total.From), npsLastDay(rep.All.Total), rep.TimeZone)
	if rep.Unknown > 0 {
		fmt.Fprintf(w, "（タッチポイント不明のアンケート %d 件は集計外）\n", rep.Unknown)
	}
	tw := &textTable{}
	for _, s := range npsSections(rep) {
		fmt.Fprintf(w, "\n■ %s\n", s.Label)
		tw.row("月", "送信", "回答", "回答率", "推奨者", "中立者", "批判者", "NPS（推奨者% − 批判者%）")
		for _, r := range append(append([]bot.NPSRow{}, s.Months...), s.Total) {
			label := r.Label
			if label == "total" {
				label = "合計"
			}
			tw.row(label, strconv.Itoa(r.Sent), strconv.Itoa(r.Responses), pct(r.ResponseRate),
				countShare(r.Promoters, r.PromoterShare), countShare(r.Passives, r.PassiveShare), countShare(r.Detractors, r.DetractorShare),
				r.Formula)
		}
		tw.flush(w)
	}
	_, err := fmt.Fprintln(w, "\n推奨者 9〜10点、中立者 7〜8点、批判者 0〜6点。割合は小数第2位を四捨五入、NPS は端数処理前の割合から計算して四捨五入しているため、内訳の差と 0.1 ずれることがあります。回答がない期間の NPS は「—」です。")
	return err
}

// writeNPSCSV writes one line per touchpoint × month and a total line per
// touchpoint; NPS is empty when undefined.
func writeNPSCSV(w io.Writer, rep bot.NPSReport) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"タッチポイント", "期間", "開始", "終了", "送信", "回答", "回答率(%)", "推奨者", "推奨者(%)", "中立者", "中立者(%)", "批判者", "批判者(%)", "NPS"})
	for _, s := range npsSections(rep) {
		tp := string(s.Touchpoint)
		if tp == "" {
			tp = "all"
		}
		for _, r := range append(append([]bot.NPSRow{}, s.Months...), s.Total) {
			nps := ""
			if r.NPS != nil {
				nps = strconv.FormatFloat(*r.NPS, 'f', 1, 64)
			}
			_ = cw.Write([]string{tp, r.Label, day(r.From), npsLastDay(r), strconv.Itoa(r.Sent), strconv.Itoa(r.Responses), num(r.ResponseRate),
				strconv.Itoa(r.Promoters), num(r.PromoterShare), strconv.Itoa(r.Passives), num(r.PassiveShare),
				strconv.Itoa(r.Detractors), num(r.DetractorShare), nps})
		}
	}
	cw.Flush()
	return cw.Error()
}

// npsLastDay is the last day a row covers (its To is exclusive).
func npsLastDay(r bot.NPSRow) string {
	if !r.To.After(r.From) {
		return day(r.From)
	}
	return day(r.To.Add(-time.Nanosecond))
}
