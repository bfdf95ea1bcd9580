package host

import (
	"context"
	"strings"
	"testing"

	"github.com/deviceflow/deviceflow/plugin"
)

// The host refuses a plugin whose contract's major version is not its own,
// with an error that says what to do; the embedded plugin passes.
func TestCheckABI(t *testing.T) {
	var p pool
	in, err := p.get(context.Background())
	if err != nil {
		t.Fatalf("the embedded plugin (ABI %s) was refused: %v", plugin.ABIVersion, err)
	}
	defer in.Close(context.Background())
	if err := checkABI(in, "2.9.1"); err != nil {
		t.Errorf("a minor difference was refused: %v", err)
	}
	err = checkABI(in, "1.0.0")
	if err == nil || !strings.Contains(err.Error(), "make wasm") || !strings.Contains(err.Error(), plugin.ABIVersion) {
		t.Errorf("got %v, want a refusal naming both versions and how to rebuild", err)
	}
}
