// Package bot is Koe's edge: the HTTP surface (webhooks, health, readiness,
// metrics) and the Dispatcher that moves inbound events from the durable
// inbox to the dialog engine. Channel adapters live in subpackages:
// bot/line (LINE Messaging API) and bot/console (koe chat).
//
// The webhook path never processes an event inside the request: it caps the
// body, verifies the signature, parses, appends to the inbox and answers
// 200. The Dispatcher then claims events with per-user leases, so one user's
// events are handled one at a time and in order across every replica.
package bot
