// Package voices is the customer side of the voice pipeline (お客さまの声):
// it classifies and records what customers write, opens a case for every
// complaint (and, while there is no inquiry dialog, for every inquiry or
// consultation written outside a dialog), puts the case's alert on the
// follow-up queue before the customer is told the reference, relays the
// customer's messages to staff during a handoff, and answers the status
// query for cases.
//
// Wiring (cmd/koe):
//
//	sink := &voices.Sink{Classifier: clf, Voices: st, Cases: st, Queue: st,
//		Catalog: cat, Due: sla.DueTimes(cal, nil) /* optional */, InquiryPhone: phone, Logger: log}
//	status := &voices.Status{Cases: st, Reports: accidentRunner, Catalog: cat}
//	dialogs.Config{
//		Voices:   sink,
//		Commands: []dialogs.Command{voices.StatusCommand()},
//		Effects: dialogs.Runners{
//			accident.KindSubmit:     accidentRunner,
//			accident.KindStatus:     status, // reports and cases
//			voices.KindCaseStatus:   status,
//			dialogs.KindRelay:       sink,
//			dialogs.KindHandoffEnd:  sink,
//		},
//	}
//
// Jobs it enqueues (koe.Job, idempotent by ID):
//
//	case.alert        ID "case.alert:<ref>", Ref: the case — a new complaint or inquiry case
//	voice.praise      ID "voice.praise:<voice id>", Attrs voice, at — praise to share with staff
//	case.relay        ID "case.relay:<message id>", Ref: the case, Attrs message, kind and
//	                  voice+at (text, location), content (image) or package+sticker+keywords (sticker)
//	case.handoff_end  ID "case.handoff_end:<message id>", Ref: the case, Attrs by ("customer"), message
//
// Attrs never hold personal data: the words are in the voice store under
// the voice id ("at" is the voice's time, to find it by time range).
package voices
