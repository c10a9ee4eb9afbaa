//go:build !faults

//book:file namespaces

// Package faults lets the tests make any step of a container's life fail
// on purpose, to prove that every error path cleans up after itself. It
// is empty in mydocker as users build it; the tests build mydocker with
// `-tags faults` (inject.go).
package faults

// Step is called before each step of a container's phases. Here it does
// nothing, and the compiler removes the call.
func Step(phase, step string) error { return nil }

// Report is called as mydocker exits. Here it does nothing.
func Report() {}

// Crash is called by the init at a point where it could die without a
// word, as a Go program that cannot start a thread does. Here it does
// nothing.
func Crash(phase, step string) {}

// InitEnv is what the init's environment gets from the tests. Here, nothing.
func InitEnv() []string { return nil }
