package deviceflow_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// startEmulator runs an emulator with a short interval for one test.
func startEmulator(t testing.TB, cfg deviceflowtest.Config) *deviceflowtest.Server {
	t.Helper()
	if cfg.Interval == 0 {
		cfg.Interval = 50 * time.Millisecond
	}
	s := deviceflowtest.NewServer(cfg)
	t.Cleanup(func() { s.Close() })
	return s
}

// pressButton does what a person does in the browser: open the
// verification page, type the code and press Authorize (or Cancel).
func pressButton(verificationURI, userCode, action string) error {
	page, err := http.Get(verificationURI)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, page.Body)
	page.Body.Close()
	form := url.Values{deviceflowtest.FieldUserCode: {userCode}, deviceflowtest.FieldAction: {action}}
	res, err := http.PostForm(verificationURI, form)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	want := map[string]string{deviceflowtest.ActionAuthorize: deviceflowtest.ResultAuthorized, deviceflowtest.ActionCancel: deviceflowtest.ResultCancelled}[action]
	if !strings.Contains(string(body), `data-result="`+want+`"`) {
		return &formError{action: action}
	}
	return nil
}

type formError struct{ action string }

func (e *formError) Error() string { return "the device page did not accept " + e.action }

// person approves (or cancels) every code shown to it, in the background
// as a person at another device would, and counts the codes.
type person struct {
	action string
	mu     sync.Mutex
	shown  []deviceflow.Verification
	errs   []error
	wg     sync.WaitGroup
}

func (p *person) onVerification(_ context.Context, v deviceflow.Verification) error {
	p.mu.Lock()
	p.shown = append(p.shown, v)
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := pressButton(v.VerificationURI, v.UserCode, p.action); err != nil {
			p.mu.Lock()
			p.errs = append(p.errs, err)
			p.mu.Unlock()
		}
	}()
	return nil
}

func (p *person) codes(t *testing.T) int {
	t.Helper()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, err := range p.errs {
		t.Error(err)
	}
	return len(p.shown)
}

// newClient returns a client of emu whose verifications go to p.
func newClient(t *testing.T, emu *deviceflowtest.Server, p *person, cfg deviceflow.Config) *deviceflow.Client {
	t.Helper()
	if cfg.ClientID == "" {
		cfg.ClientID = "Ov23liTestClient"
	}
	cfg.BaseURL = emu.URL()
	if p != nil {
		cfg.OnVerification = p.onVerification
	}
	c, err := deviceflow.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
