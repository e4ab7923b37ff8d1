package inquiry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/dialogs/catalog"
)

// verdictData prefixes the postback data of the 解決しましたか buttons under
// an Answerer's answer: verdictData + answer key + ":yes" or ":no".
const verdictData = "inquiry:verdict:"

// Answerer answers a free text written outside any dialog from the FAQ,
// for the voice pipeline to call before it opens an inquiry case. KB,
// FAQLog and Catalog are required. Safe for concurrent use.
type Answerer struct {
	KB        Searcher
	Threshold float64
	FAQLog    koe.FAQLog
	Catalog   *catalog.Catalog
}

// Answer searches the FAQ for text. Without a match of Confidence ≥
// Threshold it returns ok false and does nothing (the caller goes on, e.g.
// opens the inquiry case). With one it records a koe.FAQAnswer (ID
// meta.Key + "/faq", rank 1) and returns ok true and the replies: the
// answer, its link, and 解決しましたか with はい／いいえ buttons that
// VerdictCommand (registered by Dialog) handles. Idempotent by meta.Key:
// an answer recorded before is kept and the same replies are returned. A
// store error is returned wrapped.
func (a *Answerer) Answer(ctx context.Context, meta dialogs.EffectMeta, text string) (replies []koe.Reply, ok bool, err error) {
	if a.KB == nil || a.FAQLog == nil || a.Catalog == nil {
		return nil, false, fmt.Errorf("inquiry: answerer needs KB, FAQLog and Catalog: %w", koe.ErrInvalid)
	}
	if strings.TrimSpace(text) == "" {
		return nil, false, nil
	}
	ms := a.KB.Search(meta.Lang, text, 1)
	if len(ms) == 0 || ms[0].Confidence < a.Threshold {
		return nil, false, nil
	}
	m, found := a.KB.Entry(meta.Lang, ms[0].ID)
	if !found {
		return nil, false, nil
	}
	key := meta.Key + "/faq"
	_, err = a.FAQLog.RecordAnswer(ctx, koe.FAQAnswer{ID: key, User: meta.User, Entry: m.ID, Lang: meta.Lang, Rank: 1,
		Confidence: ms[0].Confidence, At: meta.At})
	if err != nil && !errors.Is(err, koe.ErrDuplicate) {
		return nil, false, fmt.Errorf("inquiry: record answer: %w", err)
	}
	t := func(k string) string { return a.Catalog.Text(meta.Lang, k) }
	qr := []koe.Action{
		{Kind: koe.ActionPostback, Label: t("inquiry.yes"), Data: verdictData + key + ":yes", Text: t("inquiry.yes")},
		{Kind: koe.ActionPostback, Label: t("inquiry.no"), Data: verdictData + key + ":no", Text: t("inquiry.no")},
	}
	return []koe.Reply{answerReply(m), {Text: t("inquiry.resolved"), QuickReplies: qr}}, true, nil
}

// VerdictCommand handles the はい／いいえ buttons under an Answerer's
// answer, wherever the customer is: a VerdictEffect, and thanks or the way
// to a person (お問い合わせ in the menu). Dialog registers it; the postback
// data must name an answer key (at most 300 bytes, as LINE allows).
func VerdictCommand() dialogs.Command {
	parse := func(t *dialogs.Turn) (key string, helpful, ok bool) {
		rest, ok := strings.CutPrefix(t.Postback(), verdictData)
		if !ok {
			return "", false, false
		}
		i := strings.LastIndex(rest, ":")
		if i <= 0 {
			return "", false, false
		}
		key, v := rest[:i], rest[i+1:]
		if v != "yes" && v != "no" {
			return "", false, false
		}
		return key, v == "yes", true
	}
	return dialogs.Command{
		Name:  "verdict",
		Match: func(t *dialogs.Turn) bool { _, _, ok := parse(t); return ok },
		Run: func(t *dialogs.Turn) {
			key, helpful, _ := parse(t)
			t.Effect(VerdictEffect{Answer: key, Helpful: helpful})
			if helpful {
				t.Say("inquiry.thanks")
				return
			}
			t.Say("inquiry.free_unhelpful")
		},
	}
}
