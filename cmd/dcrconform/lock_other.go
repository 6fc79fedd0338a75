//go:build !unix

package main

// lockReports is a no-op where flock is not available; runs there must use distinct --reports
// directories.
func lockReports(string) (func(), error) { return func() {}, nil }
