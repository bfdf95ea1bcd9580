package bench

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// A poll exchange is one request to the token endpoint with the device
// code grant and its authorization_pending answer, everything a client
// does for it included: for the plugin, the poll export's whole call
// (state in, engine, polling event, http_request through the host's
// sandbox, JSON answer parsed, state out, decoded by the caller); for
// x/oauth2, Config.Exchange with the device-code grant, which runs the same
// retrieveToken that DeviceAccessToken calls on each tick (its ticker
// cannot tick faster than once a second, so it cannot be benchmarked as a
// whole). Both talk to the same emulator over loopback with
// http.DefaultTransport. A fake clock shared by the emulator and the host
// moves past the interval before each poll, so every poll is due and none
// is answered slow_down.

const pollInterval = time.Second

// step is how far the clock moves before each poll: the interval plus the
// plugin's 5% safety margin, with room to spare.
const step = pollInterval + pollInterval/10

type pollRig struct {
	emu   *deviceflowtest.Server
	clock *deviceflowtest.FakeClock
	h     *host.Host
	state json.RawMessage
	xo    *oauth2.Config
	da    *oauth2.DeviceAuthResponse
}

// newPollRig starts an emulator whose every answer is delayed by latency
// (zero: loopback speed), a host and an x/oauth2 client, each with a
// device code waiting for approval.
func newPollRig(b *testing.B, latency time.Duration) *pollRig {
	b.Helper()
	clock := deviceflowtest.NewFakeClock(time.Now())
	emu, err := deviceflowtest.New(deviceflowtest.Config{
		Interval:  pollInterval,
		ExpiresIn: 100000 * time.Hour, // never expires within a benchmark
		Now:       clock.Now,
	})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if latency > 0 {
			time.Sleep(latency)
		}
		emu.ServeHTTP(w, r)
	}))
	b.Cleanup(srv.Close)
	base := srv.URL
	h, err := host.New(host.Options{BaseURL: base, Clock: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(context.Background()) })
	r := &pollRig{emu: emu, clock: clock, h: h}

	out, err := h.Call(context.Background(), "begin", []byte(`{"clientId":"Ov23liBench","scopes":["repo"],"baseUrl":"`+base+`"}`))
	if err != nil {
		b.Fatal(err)
	}
	r.state = pending(b, out)

	r.xo = &oauth2.Config{
		ClientID: "Ov23liBench",
		Scopes:   []string{"repo"},
		Endpoint: oauth2.Endpoint{
			DeviceAuthURL: base + "/login/device/code",
			TokenURL:      base + "/login/oauth/access_token",
			AuthStyle:     oauth2.AuthStyleInParams, // one request per poll
		},
	}
	r.da, err = r.xo.DeviceAuth(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	// Warm both paths (plugin instance, keep-alive connection).
	r.pluginPoll(b)
	r.nativePoll(b)
	return r
}

// pending decodes a pending answer of begin or poll and returns its state.
func pending(b *testing.B, out []byte) json.RawMessage {
	var ans struct {
		Status string          `json:"status"`
		State  json.RawMessage `json:"state"`
	}
	if err := json.Unmarshal(out, &ans); err != nil || ans.Status != "pending" {
		b.Fatalf("not pending: %s", out)
	}
	return ans.State
}

func (r *pollRig) pluginPoll(b *testing.B) {
	r.clock.Advance(step)
	in := make([]byte, 0, len(r.state)+16)
	in = append(append(append(in, `{"state":`...), r.state...), '}')
	out, err := r.h.Call(context.Background(), "poll", in)
	if err != nil {
		b.Fatal(err)
	}
	r.state = pending(b, out)
}

func (r *pollRig) nativePoll(b *testing.B) {
	r.clock.Advance(step)
	_, err := r.xo.Exchange(context.Background(), "",
		oauth2.SetAuthURLParam("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
		oauth2.SetAuthURLParam("device_code", r.da.DeviceCode))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "authorization_pending" {
		b.Fatalf("x/oauth2 poll: %v", err)
	}
}

// BenchmarkPollExchange measures each side on its own, then both
// interleaved in one loop (so drift of the machine affects both alike),
// reporting plugin/native as the ratio metric; the goal is ratio ≤ 3 on
// loopback.
// "loopback" is the emulator at loopback speed, which isolates the
// client's own cost; "rtt20ms" delays every answer by 20 ms, a fast
// connection to github.com, to show what the difference means in use.
func BenchmarkPollExchange(b *testing.B) {
	for _, c := range []struct {
		name    string
		latency time.Duration
	}{{"loopback", 0}, {"rtt20ms", 20 * time.Millisecond}} {
		b.Run(c.name, func(b *testing.B) {
			r := newPollRig(b, c.latency)
			if c.latency == 0 {
				b.Run("plugin", func(b *testing.B) {
					for b.Loop() {
						r.pluginPoll(b)
					}
				})
				b.Run("xoauth2", func(b *testing.B) {
					for b.Loop() {
						r.nativePoll(b)
					}
				})
			}
			b.Run("ratio", func(b *testing.B) {
				var plugin, native time.Duration
				for b.Loop() {
					t0 := time.Now()
					r.pluginPoll(b)
					t1 := time.Now()
					r.nativePoll(b)
					t2 := time.Now()
					plugin += t1.Sub(t0)
					native += t2.Sub(t1)
				}
				n := float64(b.N)
				b.ReportMetric(float64(plugin.Nanoseconds())/n, "plugin-ns/poll")
				b.ReportMetric(float64(native.Nanoseconds())/n, "xoauth2-ns/poll")
				b.ReportMetric(float64(plugin)/float64(native), "ratio")
			})
			if st := r.emu.Stats(); st.SlowDowns != 0 {
				b.Errorf("%d polls were answered slow_down", st.SlowDowns)
			}
		})
	}
}
