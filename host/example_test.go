package host_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// A device flow against the local emulator: the plugin asks for a code, the
// verification event shows it, the "person" approves it, and the plugin
// polls until it has the token. A second call is answered from the store.
func ExampleNew() {
	emu := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 50 * time.Millisecond})
	defer emu.Close()

	h, err := host.New(host.Options{
		BaseURL: emu.URL(), // the sandbox allows only this GitHub's hosts
		Store:   host.NewMemoryStore(),
		OnEvent: func(ctx context.Context, e host.Event) error {
			if e.Type == "verification" {
				var v struct {
					UserCode        string `json:"user_code"`
					VerificationURI string `json:"verification_uri"`
				}
				if err := json.Unmarshal(e.JSON, &v); err != nil {
					return err
				}
				// A real application shows v.VerificationURI and v.UserCode.
				return emu.Approve(v.UserCode)
			}
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := map[string]any{"clientId": "Ov23liExample", "scopes": []string{"repo"}, "baseUrl": emu.URL()}
	var auth struct {
		Type, TokenType, ClientType, Token string
		Scopes                             []string
	}
	for range 2 {
		if err := h.CallJSON(ctx, "authenticate", in, &auth); err != nil {
			log.Fatal(err)
		}
		fmt.Println(auth.Type, auth.TokenType, auth.ClientType, auth.Scopes, auth.Token[:4])
	}
	fmt.Println("device codes asked for:", emu.Stats().DeviceCode)
	// Output:
	// token oauth oauth-app [repo] gho_
	// token oauth oauth-app [repo] gho_
	// device codes asked for: 1
}
