// Package accident is the accident-report dialog (事故連絡) and the effect
// runner that files its reports.
//
// The dialog (Dialog, registered as dialogs.DialogAccident) asks, safety
// first: whether anyone is injured or in danger (folded together with the
// kind of accident into one tap when nobody is), who the customer is
// (policy number, or name and phone), when and where it happened, what
// happened, who else was involved, whether the police were told, photos,
// a phone number and a time to call; then it shows a summary card to send,
// change or discard. Every answer lives in the session's Vars until the
// dialog ends; steps are pure.
//
// Sending asks for two effects: Submit (the report, run by Runner, which
// allocates the reference, stores the report idempotently by the effect's
// key, enqueues the Slack alert job and answers with the reference and what
// happens next) and a dialogs.VoiceEffect with the description.
//
// The dialog also brings a command that works at any point of any
// conversation: 「状況」/"status", or a reference number such as
// AR-20261122-7F3K, answers with the status of the customer's own reports
// (StatusQuery, run by Runner).
//
// Customer texts are in dialogs/catalog (ja.accident.txtar,
// en.accident.txtar).
package accident
