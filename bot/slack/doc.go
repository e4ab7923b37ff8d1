// Package slack is Koe's Slack channel for staff: a Web API client that
// posts and updates alerts, replies in threads, uploads files and opens
// modals; a small Block Kit model (Message, Modal) so callers never build
// blocks by hand and customer text is always escaped; and the three
// inbound handlers Slack calls: interactions (buttons, modal
// submissions), events (thread replies) and slash commands.
//
// Every inbound handler caps the body, verifies X-Slack-Signature on the
// raw bytes (v0, 5-minute window) before anything else sees the request,
// parses, passes the result to a callback and answers within Slack's
// 3-second limit. The callbacks only hand work off (the caller writes it
// to the durable inbox); deduplication is the caller's, on the IDs this
// package provides (Action.ID, Submission.ID, ThreadReply.EventID).
//
// The package imports slack-go as slackapi; its tests run against the fake
// Web API in internal/fakeslack.
package slack
