package app

import (
	"os"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// MaxLogVerbosity caps V-levels for every logger ocl-guard hands out, whatever --zap-log-level says. client-go
// logs through the logger in the request's context (klog.FromContext), and from V(8) on it prints request and
// response bodies (k8s.io/client-go rest/request.go, transport/round_trippers.go): that is Secret data, the cluster
// pull secret among it. V(6) still shows each API call's verb, URL, status and latency.
const MaxLogVerbosity = 6

// NewLogger builds the process logger from the zap flags, capped at MaxLogVerbosity. It writes to stderr, in
// console encoding when that is a terminal (ForTerminal).
func NewLogger(opts *zap.Options) logr.Logger {
	ForTerminal(opts, os.Stderr)
	return CapVerbosity(zap.New(zap.UseFlagOptions(opts)), MaxLogVerbosity)
}

// CapVerbosity returns logger with every V-level above max disabled, in it and in all loggers derived from it.
func CapVerbosity(logger logr.Logger, max int) logr.Logger {
	sink := logger.GetSink()
	if sink == nil {
		return logger
	}
	if d, ok := sink.(logr.CallDepthLogSink); ok {
		sink = d.WithCallDepth(1) // the wrapper's own frame
	}
	return logger.WithSink(cappedSink{LogSink: sink, max: max})
}

type cappedSink struct {
	logr.LogSink
	max int
}

func (s cappedSink) Enabled(level int) bool { return level <= s.max && s.LogSink.Enabled(level) }

func (s cappedSink) Info(level int, msg string, keysAndValues ...any) {
	if level <= s.max {
		s.LogSink.Info(level, msg, keysAndValues...)
	}
}

func (s cappedSink) WithValues(keysAndValues ...any) logr.LogSink {
	return cappedSink{LogSink: s.LogSink.WithValues(keysAndValues...), max: s.max}
}

func (s cappedSink) WithName(name string) logr.LogSink {
	return cappedSink{LogSink: s.LogSink.WithName(name), max: s.max}
}

// WithCallDepth keeps caller annotations pointing at ocl-guard's code rather than at this wrapper.
func (s cappedSink) WithCallDepth(depth int) logr.LogSink {
	if d, ok := s.LogSink.(logr.CallDepthLogSink); ok {
		return cappedSink{LogSink: d.WithCallDepth(depth), max: s.max}
	}
	return s
}
