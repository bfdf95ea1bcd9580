package deviceflow_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
)

func TestAuthenticationJSONAndMasking(t *testing.T) {
	const in = `{"type":"token","tokenType":"oauth","clientType":"github-app","clientId":"Iv1.x","token":"ghu_secretsecret","refreshToken":"ghr_secretrefresh","expiresAt":"2026-01-01T08:00:00.000Z","refreshTokenExpiresAt":"2026-07-04T00:00:00.000Z"}`
	var a deviceflow.Authentication
	if err := json.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	if !a.ExpiresAt.Equal(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)) || a.Scopes != nil {
		t.Errorf("decoded %v", a)
	}
	out, _ := json.Marshal(a)
	if string(out) != in {
		t.Errorf("round trip:\n%s\n%s", out, in)
	}
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%+v", a), fmt.Sprintf("%#v", a), fmt.Sprint(&a), fmt.Sprintf("%v", []any{a})} {
		if strings.Contains(s, "secret") || !strings.Contains(s, "ghu_********") {
			t.Errorf("printed: %s", s)
		}
	}
	if deviceflow.Mask("abcdef") != "********" || deviceflow.Mask("") != "" {
		t.Error("Mask")
	}
	var oauth deviceflow.Authentication
	json.Unmarshal([]byte(`{"type":"token","tokenType":"oauth","clientType":"oauth-app","clientId":"x","token":"gho_x","scopes":[]}`), &oauth)
	if oauth.Scopes == nil {
		t.Error("empty scopes of an OAuth App must stay a non-nil list")
	}
	if err := json.Unmarshal([]byte(`{"expiresAt":"tomorrow"}`), &oauth); err == nil {
		t.Error("bad expiresAt accepted")
	}
}
