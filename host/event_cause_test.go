package host

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// An error returned by OnEvent stops the call and stays testable with
// errors.Is through the cancelled error.
func TestOnEventErrorIsTheCause(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("content-type", "application/json")
		fmt.Fprint(w, `{"device_code":"d","user_code":"ABCD-EFGH","verification_uri":"https://github.com/login/device"}`)
	}))
	defer srv.Close()
	stop := errors.New("the user closed the window")
	h, err := New(Options{BaseURL: srv.URL, OnEvent: func(context.Context, Event) error { return stop }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Call(context.Background(), "authenticate", []byte(`{"clientId":"Iv1.x","baseUrl":"`+srv.URL+`"}`))
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, stop) {
		t.Fatalf("err = %v, want ErrCancelled wrapping the OnEvent error", err)
	}
}
