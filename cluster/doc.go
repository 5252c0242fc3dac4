// Package cluster holds the cluster check (`make test-cluster`): two real
// perch processes on one PostgreSQL under load, one SIGKILLed and
// restarted, the other SIGTERMed. The test is behind the "cluster" build
// tag so `go test ./...` stays fast.
package cluster
