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
	// Pull is the pull probe's verdict (ProbePullWithSecret): the manifest exists and the credentials may read it.
	// Empty for push probes.
	Pull       Status
	PullDetail string
	// NotFound is true when the registry answered that the manifest (tag or digest) does not exist.
	NotFound bool
	// Delete is the delete probe's verdict (ProbeDeleteWithSecret): the token grants delete. Empty otherwise.
	Delete       Status
	DeleteDetail string
	// CredentialsRefused is true when the registry rejected the credentials themselves (not just push).
	CredentialsRefused bool
	// Cached is true when the result came from the cache rather than a new probe.
	Cached bool
}
