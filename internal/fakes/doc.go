// Package fakes holds hand-written, in-memory implementations of Koe's ports
// for tests across the project. They record what happened so a test can
// assert on it; they never reach the network and never sleep.
package fakes
