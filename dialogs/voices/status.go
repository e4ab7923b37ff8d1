package voices

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/accident"
	"github.com/koehq/koe/dialogs/catalog"
	"golang.org/x/text/unicode/norm"
)

// KindCaseStatus is CaseStatusQuery's effect kind, for dialogs.Runners.
const KindCaseStatus = "voices:status"

// CaseStatusQuery asks for the status of the customer's cases: the one
// with Ref, or the open ones when Ref is empty. Only the customer's own
// cases are ever shown.
type CaseStatusQuery struct {
	Ref string
}

// EffectKind returns KindCaseStatus.
func (CaseStatusQuery) EffectKind() string { return KindCaseStatus }

// StatusCommand is the status query for cases: a case reference
// (C-20261122-7F3K, in any width and case, hyphens optional, optionally
// with a status word: 「C-20261122-7F3K の状況」), or a status word alone
// (状況, status) when no earlier command took it. Register it in
// dialogs.Config.Commands. With the accident dialog registered, its own
// status command takes 状況 first; wire Status under accident.KindStatus
// too, so that answer lists cases as well.
func StatusCommand() dialogs.Command {
	return dialogs.Command{
		Name: "case status",
		Match: func(t *dialogs.Turn) bool {
			_, ok := ParseCaseQuery(t.Text())
			return ok
		},
		Run: func(t *dialogs.Turn) {
			ref, _ := ParseCaseQuery(t.Text())
			t.Effect(CaseStatusQuery{Ref: ref})
		},
	}
}

// casePattern is a case reference as customers type it (after NFKC and
// upper casing); it must not follow a letter (AR-… is a report).
var casePattern = regexp.MustCompile(`(^|[^A-Z])(C-?\d{8}-?[0-9A-Z]{4})`)

// ParseCaseQuery reports whether text asks for the status of cases: a
// case reference alone or with a status word, or a status word alone. It
// returns the reference in canonical form, or "" for all open cases.
func ParseCaseQuery(text string) (ref string, ok bool) {
	if strings.TrimSpace(text) == "" {
		return "", false
	}
	s := strings.ToUpper(norm.NFKC.String(text))
	s = strings.Map(func(r rune) rune {
		switch r {
		case '‐', '‑', '‒', '–', '—', '−', 'ー', '－':
			return '-'
		}
		return r
	}, s)
	m := casePattern.FindStringSubmatch(s)
	if m == nil {
		ref, ok := accident.ParseStatusQuery(text)
		return "", ok && ref == ""
	}
	digits := strings.ReplaceAll(m[2][1:], "-", "")
	ref = "C-" + digits[:8] + "-" + digits[8:]
	rest := strings.Join(strings.Fields(strings.Replace(s, m[2], "", 1)), "")
	rest = strings.TrimRight(rest, "。.!?？！")
	for _, suffix := range []string{"を教えてください", "を確認したい", "について"} {
		rest = strings.TrimSuffix(rest, suffix)
	}
	if rest == "" {
		return ref, true
	}
	if r, ok := accident.ParseStatusQuery(rest); ok && r == "" {
		return ref, true
	}
	return "", false
}

// Status answers status queries with the customer's cases. It implements
// dialogs.EffectRunner for CaseStatusQuery and accident.StatusQuery (wire
// it under both kinds); Cases and Catalog are required. Safe for
// concurrent use.
type Status struct {
	Cases koe.CaseStore
	// Reports answers accident.StatusQuery with the accident reports (the
	// accident.Runner); nil lists cases only.
	Reports dialogs.EffectRunner
	Catalog *catalog.Catalog
	// Limit is how many cases are listed (0: 5).
	Limit int
}

var _ dialogs.EffectRunner = (*Status)(nil)

// RunEffect answers a status query, never with another customer's case
// (someone else's reference reads as unknown):
//
//   - CaseStatusQuery with a Ref: that case; with none: the open cases
//     (or that there are none).
//   - accident.StatusQuery: the reports' answer from Reports; for the list
//     (no Ref), the open cases follow it, and when there are open cases
//     but no reports, the "no reports" text is left out.
//
// Store errors are returned wrapped; any other effect is an error wrapping
// koe.ErrInvalid.
func (s *Status) RunEffect(ctx context.Context, meta dialogs.EffectMeta, e dialogs.Effect) ([]koe.Reply, error) {
	if s.Cases == nil || s.Catalog == nil {
		return nil, fmt.Errorf("voices: status needs Cases and Catalog: %w", koe.ErrInvalid)
	}
	t := func(key string, args ...string) string { return s.Catalog.Text(meta.Lang, key, args...) }
	switch q := e.(type) {
	case CaseStatusQuery:
		if q.Ref != "" {
			c, err := s.Cases.GetCase(ctx, q.Ref)
			switch {
			case errors.Is(err, koe.ErrNotFound) || (err == nil && c.User != meta.User):
				return []koe.Reply{{Text: t("cases.status_not_found", "ref", q.Ref)}}, nil
			case err != nil:
				return nil, fmt.Errorf("voices: status: %w", err)
			}
			return []koe.Reply{{Card: s.card(meta, []koe.Case{c})}}, nil
		}
		open, err := s.open(ctx, meta.User)
		if err != nil {
			return nil, err
		}
		if len(open) == 0 {
			return []koe.Reply{{Text: t("cases.status_none")}}, nil
		}
		return []koe.Reply{{Card: s.card(meta, open)}}, nil
	case accident.StatusQuery:
		var replies []koe.Reply
		if s.Reports != nil {
			var err error
			if replies, err = s.Reports.RunEffect(ctx, meta, q); err != nil {
				return nil, err
			}
		}
		if q.Ref != "" {
			return replies, nil
		}
		open, err := s.open(ctx, meta.User)
		if err != nil {
			return nil, err
		}
		if len(open) == 0 {
			if len(replies) == 0 {
				return []koe.Reply{{Text: t("cases.status_none")}}, nil
			}
			return replies, nil
		}
		if len(replies) == 1 && replies[0].Card == nil && replies[0].Text == t("accident.status_none") {
			replies = nil
		}
		return append(replies, koe.Reply{Card: s.card(meta, open)}), nil
	}
	return nil, fmt.Errorf("voices: unknown effect %q: %w", e.EffectKind(), koe.ErrInvalid)
}

// open returns the user's open cases, newest first.
func (s *Status) open(ctx context.Context, user koe.UserID) ([]koe.Case, error) {
	limit := s.Limit
	if limit <= 0 {
		limit = 5
	}
	all, err := s.Cases.Cases(ctx, koe.CaseFilter{User: user})
	if err != nil {
		return nil, fmt.Errorf("voices: status: %w", err)
	}
	var open []koe.Case
	for _, c := range all {
		if c.User == user && c.Open() && len(open) < limit {
			open = append(open, c)
		}
	}
	return open, nil
}

func (s *Status) card(meta dialogs.EffectMeta, cases []koe.Case) *koe.Card {
	t := func(key string, args ...string) string { return s.Catalog.Text(meta.Lang, key, args...) }
	title := t("cases.status_title")
	card := &koe.Card{AltText: title, Title: title, Note: t("cases.status_note")}
	for _, c := range cases {
		typ := "cases.type_inquiry"
		if c.Type == koe.CaseComplaint {
			typ = "cases.type_complaint"
		}
		value := t("cases.status_line",
			"status", t("cases.status_"+caseStatusKey(c.Status)),
			"type", t(typ),
			"at", formatDateTime(meta.Lang, c.CreatedAt))
		card.Fields = append(card.Fields, koe.CardField{Label: c.Ref, Value: value})
	}
	return card
}

// caseStatusKey maps a status to what customers are told: escalation is
// internal and reads as being worked on.
func caseStatusKey(st koe.CaseStatus) string {
	switch st {
	case koe.CaseAssigned, koe.CaseEscalated:
		return string(koe.CaseAssigned)
	case koe.CaseResponded, koe.CaseClosed:
		return string(st)
	}
	return string(koe.CaseReceived)
}
