// Package store holds the implementations of koe.Store, the port for the
// durable inbox and conversation sessions:
//
//   - store/sqlite: the embedded default, one SQLite file (WAL,
//     synchronous=FULL) with group commit through a single writer.
//   - store/redis: for several replicas sharing one Redis.
//   - store/storetest: the conformance suite both run; it is the definition
//     of correct behaviour, including the choices koe's doc comments leave
//     open (oldest users first, time boundaries, ErrConflict for any lease
//     not held).
package store
