package relay_test

import (
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/deviceflow/deviceflow/host/relay"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// A relay for the pages of one web application, in front of github.com.
// Serve it with an http.Server that has timeouts of its own.
func Example() {
	rl, err := relay.New(relay.Config{
		GitHub:         "https://github.com", // or https://ghe.example.com, https://octo.ghe.com
		AllowedOrigins: []string{"https://app.example.com", "http://localhost:5173"},
		ClientIDs:      []string{"Iv1.0123456789abcdef"}, // optional: only this app
		Logger:         slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Addr:              "127.0.0.1:8787",
		Handler:           rl,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       20 * time.Second,
		WriteTimeout:      25 * time.Second,
	}
	_ = srv // srv.ListenAndServe() in a real program
	fmt.Println(rl.Endpoints().Base + relay.DeviceCodePath)
	// Output: https://github.com/login/device/code
}

// A page's request, here from Go: the relay answers with CORS headers for
// the page's origin and GitHub's (here the emulator's) answer.
func ExampleRelay_ServeHTTP() {
	emu := deviceflowtest.NewServer(deviceflowtest.Config{})
	defer emu.Close()
	rl, err := relay.New(relay.Config{GitHub: emu.URL(), AllowedOrigins: []string{"https://app.example.com"}})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(rl)
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/login/device/code", strings.NewReader(`{"client_id":"Ov23liExample"}`))
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), strings.Contains(string(body), `"user_code"`))

	// Anything else is refused.
	resp, err = http.Get(srv.URL + "/user")
	if err != nil {
		log.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	// Output:
	// 200 https://app.example.com true
	// 404 {"error":"not_found","error_description":"this relay forwards only POST /login/device/code and POST /login/oauth/access_token"}
}
