package flow

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestCodesMatchWIT keeps the engine's error codes, exports and imports in
// step with wit/deviceflow.wit (the wasm itself is checked against the WIT in
// wit/tools).
func TestCodesMatchWIT(t *testing.T) {
	raw, err := os.ReadFile("../../wit/deviceflow.wit")
	if err != nil {
		t.Fatal(err)
	}
	src := regexp.MustCompile(`(?m)^\s*///.*$`).ReplaceAllString(string(raw), "")
	block := regexp.MustCompile(`enum error-code \{([^}]*)\}`).FindStringSubmatch(src)
	if block == nil {
		t.Fatal("no error-code enum in the WIT")
	}
	var wit []string
	for _, f := range strings.Split(block[1], ",") {
		if f = strings.TrimSpace(f); f != "" {
			wit = append(wit, strings.ReplaceAll(f, "-", "_"))
		}
	}
	var codes []string
	for _, c := range Codes {
		codes = append(codes, string(c))
	}
	sort.Strings(wit)
	sort.Strings(codes)
	if strings.Join(wit, " ") != strings.Join(codes, " ") {
		t.Errorf("WIT error codes %v\nengine codes    %v", wit, codes)
	}
	for _, e := range Exports {
		if !strings.Contains(src, "export "+strings.ReplaceAll(e, "_", "-")+": func") {
			t.Errorf("export %s is not in the WIT", e)
		}
	}
	for _, i := range Imports {
		if !strings.Contains(src, strings.ReplaceAll(i, "_", "-")+": func") {
			t.Errorf("import %s is not in the WIT", i)
		}
	}
}
