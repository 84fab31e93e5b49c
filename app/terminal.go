package app

import (
	"io"

	uzap "go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/term"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// ForTerminal makes the logs readable by a person when they go to a terminal: console encoding and short
// timestamps when w is a terminal, JSON lines (for log collectors) otherwise. The --zap-encoder and
// --zap-time-encoding flags, when given, win. Lines go to w unless o.DestWriter is set.
func ForTerminal(o *zap.Options, w io.Writer) {
	if o.DestWriter == nil {
		o.DestWriter = w
	}
	if !IsTerminal(w) {
		return
	}
	if o.NewEncoder == nil {
		o.NewEncoder = consoleEncoder
	}
	if o.TimeEncoder == nil {
		o.TimeEncoder = zapcore.TimeEncoderOfLayout("15:04:05.000")
	}
}

// consoleEncoder is controller-runtime's console encoder (what --zap-encoder=console selects) with colored levels.
func consoleEncoder(opts ...zap.EncoderConfigOption) zapcore.Encoder {
	cfg := uzap.NewDevelopmentEncoderConfig()
	cfg.EncodeLevel = zapcore.CapitalColorLevelEncoder
	for _, opt := range opts {
		opt(&cfg)
	}
	return zapcore.NewConsoleEncoder(cfg)
}

// IsTerminal reports whether w is a terminal (a file whose descriptor is one), as opposed to a pipe or a file.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// TerminalWidth is the width of terminal w in columns; 0 when it is not a terminal or does not say.
func TerminalWidth(w io.Writer) int {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}
