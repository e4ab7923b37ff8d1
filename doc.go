// Package koe is the domain of Koe (声, "voice"), a service that lets an
// insurer hear its customers: policyholders talk to it on LINE, staff act in
// Slack. This package holds the plain types every other package speaks and
// the small interfaces (ports) they implement; it imports only the standard
// library.
//
// # A tour of the code
//
//   - koe (this package): Message (one inbound event, channel-neutral),
//     Reply and Action (what Koe says back, with quick replies and cards),
//     Session (a conversation's state), Outbound (a batch of replies with its
//     retry key), AccidentReport, Voice, Case, Job, FAQAnswer, Survey; the
//     ports Inbox, SessionStore, ReportStore, Queue, VoiceStore, CaseStore,
//     FAQLog, SurveyStore, FollowStore, Store, Sender, Handler; NewRef; the errors ErrNotFound, ErrDuplicate,
//     ErrConflict, ErrInvalid.
//   - bot: the HTTP surface (webhooks, /healthz, /readyz, /metrics, the
//     admin API and reports: voices, FAQ deflection, NPS; the survey sender
//     with its fatigue rules) and the Dispatcher that takes events from the
//     inbox to the dialog engine. bot/line is the LINE channel (webhook
//     intake, reply/push client, rendering); bot/slack the Slack app (Web API
//     client with pacing and PostOnce, Block Kit model, signed intake);
//     bot/console the console channel: the terminal behind `koe chat` and
//     the browser page at /console (Web); bot/followup the worker of
//     the durable follow-up queue; bot/staff what staff see and do in Slack
//     (accident and case alerts, their buttons and modals, SLA reminders and
//     escalations, praise, progress notes back to customers).
//   - dialogs: the application. The Engine loads a user's session, runs one
//     step of the dialog the user is in (dialogs are state machines declared
//     as data), runs the step's effects, saves the session with the replies
//     in its outbox, and sends them; it also routes free text to the voice
//     pipeline and handles the handoff to staff. dialogs/accident is the
//     accident report, dialogs/inquiry the お問い合わせ dialog over the FAQ
//     in dialogs/faq (knowledge base and ranker), dialogs/survey the NPS
//     micro-survey, dialogs/voices the voice sink (classify, keep, answer
//     from the FAQ or open cases) and status query, dialogs/jpinput the
//     parsers of what customers type, dialogs/catalog the ja/en texts.
//   - classifier: recognises the kind, topic, sentiment and urgency of a
//     customer's words (an embedded model, or an LLM with it as fallback).
//   - store: the backends. store/sqlite (embedded default) and store/redis
//     (several replicas) both pass the conformance suite in store/storetest,
//     which is the definition of correct behaviour.
//   - cmd/koe: the one binary; main is thin and wires everything explicitly.
//   - internal/bizcal: business hours and Japanese public holidays;
//     internal/fakeline, internal/fakeslack: fake LINE and Slack APIs for
//     tests; internal/fakes: in-memory fakes of the ports;
//     internal/loadtest: the intake load tool.
//
// # The path of a LINE message
//
//  1. LINE POSTs /webhooks/line. bot/line caps the body, verifies the
//     signature on the raw bytes, parses, maps each event to a Message and
//     appends them to the durable Inbox (deduplicated on webhookEventId);
//     only then does it answer 200.
//  2. The bot.Dispatcher claims the oldest pending message of each user that
//     has no message in flight (a per-user lease, held in the store, so
//     order holds across replicas) and calls the Handler.
//  3. dialogs.Engine.Handle loads the Session; if the message was applied
//     already (a redelivery) it only resends the stored outbox. Otherwise it
//     runs the dialog step, records the message id and the replies in the
//     session, saves it (optimistic versioning), and sends the replies
//     through the channel's Sender.
//  4. bot/line's Client replies with the reply token while it is fresh and
//     pushes with the stored X-Line-Retry-Key otherwise, retrying 429 and 5xx.
//  5. The Dispatcher acks the message; a failure releases it for a retry
//     with backoff, and after too many attempts it is buried in the dead
//     letters so the user's later messages proceed.
//
// # From a complaint to a Slack alert
//
// If the message was a complaint, step 3's effect classified it, stored the
// Voice, the Case and a "case.alert" Job on the durable queue, and only then
// produced the reply with the case reference. bot/followup's worker claims
// the job; bot/staff posts the alert once (PostOnce keyed by the reference;
// posts in its thread use PostThreadOnce keyed by case and job),
// records where it is, and schedules the SLA reminder and escalation. A
// staff button press arrives on /webhooks/slack/interactions, is verified,
// recorded once per Slack action id, and queues a redraw of the alert; a
// thread reply becomes a KindStaff message in the customer's inbox, so it
// reaches LINE in order with the customer's own messages.
//
// # Tests
//
// Unit tests sit beside their code. The conformance suite store/storetest
// runs against both backends (Redis on miniredis, or on a real server when
// KOE_TEST_REDIS_URL is set). Conversations are tested by transcript files
// in dialogs/testdata/transcripts. cmd/koe holds the end-to-end tests (the
// service on 127.0.0.1:0 against fake LINE, and a real process killed with
// SIGKILL) and BenchmarkIntake, the load tool.
package koe
