package process

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

// The leak scan must find a marker in each form a log or answer could carry it.
func TestTheLeakScanFindsEveryForm(t *testing.T) {
	for name, text := range map[string]string{
		"hex dump in a JSON log line": func() string {
			j, _ := json.Marshal(hex.Dump([]byte("0123456789abc" + markPull + "tail")))
			return string(j)
		}(),
		"base64 of a docker auth": base64.StdEncoding.EncodeToString([]byte("robot:" + markPull)),
		"base64 at offset 1":      base64.StdEncoding.EncodeToString([]byte("x{" + markPull + "}")),
		"plain hex":               hex.EncodeToString([]byte(markPull)),
	} {
		all := text + "\n" + undumpHex(text)
		found := false
		for _, form := range encodings(markPull) {
			found = found || strings.Contains(all, form)
		}
		if !found {
			t.Errorf("%s: marker not found in %q", name, text)
		}
	}
}
