package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// client-go logs bodies through the logger in the request's context; at --zap-log-level=10 that printed the cluster
// pull secret on every admission.
func TestLoggerNeverEnablesClientGoBodyLogging(t *testing.T) {
	var out bytes.Buffer
	opts := zap.Options{Level: zapcore.Level(-10), DestWriter: &out}
	logger := NewLogger(&opts)
	ctx := log.IntoContext(context.Background(), logger.WithName("webhook").WithValues("request", "x"))

	fromClientGo := klog.FromContext(ctx)
	for level := MaxLogVerbosity + 1; level <= 10; level++ {
		if fromClientGo.V(level).Enabled() {
			t.Errorf("V(%d) is enabled; client-go logs request or response bodies from V(8)", level)
		}
		fromClientGo.V(level).Info("body", "secret", "MARKER")
	}
	fromClientGo.V(MaxLogVerbosity).Info("request", "verb", "GET")
	if strings.Contains(out.String(), "MARKER") {
		t.Errorf("a capped level was written:\n%s", out.String())
	}
	if !strings.Contains(out.String(), `"verb":"GET"`) {
		t.Errorf("V(%d) was not written:\n%s", MaxLogVerbosity, out.String())
	}
}
