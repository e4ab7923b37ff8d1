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
//     retry key), the ports Inbox, SessionStore, Store, Sender, Handler, and
//     the errors ErrNotFound, ErrDuplicate, ErrConflict, ErrInvalid.
//   - bot: the HTTP surface (webhooks, /healthz, /readyz, /metrics) and the
//     Dispatcher that takes events from the inbox to the dialog engine.
//     bot/line is the LINE channel (webhook intake, reply/push client,
//     rendering of replies as LINE messages); bot/console is the terminal
//     channel behind `koe chat`.
//   - dialogs: the application. The Engine loads a user's session, runs one
//     step of the dialog the user is in (dialogs are state machines declared
//     as data), saves the session with the replies in its outbox, and sends
//     them. Customer texts live in the ja/en catalogue under dialogs/catalog.
//   - classifier: recognises the kind, topic, sentiment and urgency of a
//     customer's words.
//   - store: the backends. store/sqlite (embedded default) and store/redis
//     (several replicas) both pass the conformance suite in store/storetest,
//     which is the definition of correct behaviour.
//   - cmd/koe: the one binary; main is thin and wires everything explicitly.
//   - internal/fakeline: a fake LINE API for tests; internal/fakes: in-memory
//     fakes of the ports; internal/loadtest: the intake load tool.
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
// # Tests
//
// Unit tests sit beside their code. The conformance suite store/storetest
// runs against both backends (Redis on miniredis, or on a real server when
// KOE_TEST_REDIS_URL is set). Conversations are tested by transcript files
// in dialogs/testdata/transcripts. cmd/koe holds the end-to-end tests (the
// service on 127.0.0.1:0 against fake LINE, and a real process killed with
// SIGKILL) and BenchmarkIntake, the load tool.
package koe
