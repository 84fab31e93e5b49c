package registry

// Status is the outcome of one check.
type Status string

const (
	StatusOK      Status = "OK"      // the check passed
	StatusFailed  Status = "Failed"  // the registry answered, and the answer means the build will fail
	StatusUnknown Status = "Unknown" // no answer in time, or the registry's answer does not tell
	StatusSkipped Status = "Skipped" // the check was not run (e.g. the registry was unreachable)
)

// Result is what a probe found. Details are one line each, name the host, and never contain a credential.
type Result struct {
	Reachable       Status
	ReachableDetail string
	Push            Status
	PushDetail      string
	// CredentialsRefused is true when the registry rejected the credentials themselves (not just push).
	CredentialsRefused bool
	// Cached is true when the result came from the cache rather than a new probe.
	Cached bool
}
