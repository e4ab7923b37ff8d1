// Package survey is the NPS micro-survey conversation (事故対応NPS,
// 継続NPS): a survey is started by a koe.KindStaff message in the
// customer's inbox (StartMessage: StaffNote Action StaffAction, CaseRef the
// survey id), so it is ordered with the customer's own messages. The
// engine's Config.StaffActions hands it to Start, which asks
// 「今回の○○について、ご家族やご友人に当社をすすめる可能性は、0〜10でどのくらいですか？」
// with eleven buttons (postback "nps:<id>:<n>"); typed answers such as
// 「８」「8点」「８点です」 count (ParseScore). A follow-up depends on the
// score band (9–10 what went well, 7–8 what would make it a 10, 0–6 what
// disappointed), then the 5-level satisfaction question; both can be
// skipped; then thanks.
//
// Rules: one answer per survey (a later tap is thanked, not counted; see
// LateAnswerCommand and Runner), a survey past ExpiresAt answers that it
// has closed. A detractor's score opens exactly one complaint case with
// the score and queues its alert ("case.alert:<ref>"); the comment is a
// voice (Source "survey") linked to that case, or, from a promoter or
// passive, a complaint opens the case through the voice sink and the case
// gets the score.
//
// Wiring (cmd/koe):
//
//	runner := &survey.Runner{Surveys: st, Voices: sink /* voices.Sink */, Cases: st, Queue: st,
//		Catalog: cat, Due: sla.DueTimes(cal, nil) /* optional */, Logger: log}
//	dialogs.Config{
//		Dialogs:      []*dialogs.Dialog{..., survey.Dialog()},
//		Commands:     []dialogs.Command{..., survey.LateAnswerCommand()},
//		StaffActions: map[string]func(*dialogs.Turn){survey.StaffAction: survey.Start},
//		Effects: dialogs.Runners{...,
//			survey.KindScore: runner, survey.KindSatisfaction: runner, survey.KindComment: runner},
//	}
//
// and the sender of a survey puts survey.StartMessage(s, now) into the
// customer's inbox after SurveyStore.CreateSurvey.
package survey
