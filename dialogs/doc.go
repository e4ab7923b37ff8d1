// Package dialogs is Koe's application: the engine that turns one inbound
// message into a new conversation state, side effects and replies, and the
// dialogs it runs.
//
// A dialog is data: a Dialog value with named States, each with a Prompt (ask
// the question) and an Answer (handle the customer's message). Both are pure
// functions of a *Turn, which holds the session, the message and the clock
// and collects replies and effects. The whole conversation state lives in
// koe.Session (Dialog, State, Vars, History, Invalid), so any replica can
// continue it.
//
// The engine (Engine.Handle) loads the session, runs one step, executes the
// step's effects idempotently (keyed by the message id), saves the session
// with the replies as its Outbox under optimistic concurrency, and sends the
// Outbox. A message whose step is already in the session is not run again;
// its stored Outbox is sent again with the same retry key.
//
// Commands work everywhere and take precedence over a dialog's answers:
// メニュー/menu, やめる/キャンセル/cancel (asks to confirm inside a dialog),
// 戻る/back, ヘルプ/help, and "English"/"日本語" to switch language. Without
// a running dialog, a text that is not a command or a menu choice and has
// substance (not small talk such as こんにちは) is a customer's voice: it goes
// to the VoiceSink as a VoiceEffect (Source "free_text"), whose answer
// (an apology with a case reference, thanks) is sent with the menu; any
// other input is answered with the main menu.
//
// Staff can talk with a customer directly (handoff): a koe.KindStaff message
// with a reply shows the staff member's answer and hands the conversation
// off for that case, after which the customer's messages are passed on as
// RelayEffects instead of being answered by the bot, until either side ends
// it (see Engine.Handle).
//
// Customer texts come from package catalog (ja default, en); code refers to
// them by key only.
package dialogs
