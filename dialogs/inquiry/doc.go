// Package inquiry is the お問い合わせ dialog: it answers a customer's
// question from the FAQ (a Searcher, package faq's knowledge base), asks
// whether that solved it, offers the next best answer, and hands what the
// FAQ cannot answer to staff as an inquiry case whose answer comes back on
// LINE through the handoff.
//
// Flow: お問い合わせ → the question (free text; also recorded as a voice,
// Source VoiceSource) → with a confident match (Confidence ≥ the
// threshold) the answer, its link and follow-ups, and 「解決しましたか？
// はい／いいえ」; otherwise the top choices and 「担当者に問い合わせる」.
// いいえ shows the next best answer once, then offers a person; a person
// means the preferred channel (LINE or 電話, with a phone number) and an
// inquiry case (EscalateEffect) opened by Runner, whose alert job goes to
// the inquiries channel.
//
// Every answer shown is an AnswerEffect (recorded in koe.FAQLog under the
// effect's key) and every verdict a VerdictEffect (koe.FAQLog.MarkAnswer),
// so deflection can be measured.
//
// Interrupt answers a question typed in the middle of another dialog (as
// dialogs.Config.Interrupt), and Answerer answers free text outside any
// dialog from the FAQ before the voice pipeline opens an inquiry case.
//
// Wiring (cmd/koe):
//
//	kb := …                                   // *faq.KB
//	runner := &inquiry.Runner{FAQLog: st, Cases: st, Voices: st, Queue: st, Catalog: cat,
//		Due: sla.DueTimes(cal, nil) /* optional */, InquiryPhone: phone, Logger: log}
//	dialogs.Config{
//		Dialogs:   []*dialogs.Dialog{…, inquiry.Dialog(kb, faq.Threshold)},
//		Interrupt: inquiry.Interrupt(kb, faq.Threshold),
//		Effects: dialogs.Runners{
//			…,
//			inquiry.KindAnswer:   runner,
//			inquiry.KindVerdict:  runner,
//			inquiry.KindEscalate: runner,
//		},
//	}
//
// Free text outside any dialog that the classifier labels an inquiry is
// answered from the FAQ first when voices.Sink is given an Answerer
// (&inquiry.Answerer{KB: kb, Threshold: faq.Threshold, FAQLog: st,
// Catalog: cat}): only below the threshold does it open an inquiry case.
package inquiry
