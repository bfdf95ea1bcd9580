package flow

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Discovery: a generic server named by its issuer publishes its endpoints
// in a metadata document, at OpenID Connect Discovery 1.0's
// ISSUER/.well-known/openid-configuration or, failing that, at RFC 8414's
// ORIGIN/.well-known/oauth-authorization-server/PATH. The engine fetches it
// through the host, checks it names the issuer, keeps it in the store with
// an expiry, and tells the host the origins it may now reach (the endpoints
// event) before it uses them.

const (
	phDiscoveryRead phase = "discoveryRead" // the cached discovery document
	phDiscovering   phase = "discovering"   // a discovery document's response
	phDiscovered    phase = "discovered"    // endpoints known: on with the export
)

// Discovery cache lifetimes: Cache-Control max-age when the server sends
// one, within bounds, else a day.
const (
	discoveryDefaultMs = 24 * 60 * 60 * 1000
	discoveryMinMs     = 5 * 60 * 1000
	discoveryMaxMs     = 7 * 24 * 60 * 60 * 1000
)

// discoveryKey names the store entry that caches an issuer's endpoints.
func discoveryKey(issuer string) string { return "deviceflow:v1:discovery|" + issuer }

// discoveryURLs are the two places a metadata document may live.
func discoveryURLs(issuer string) [2]string {
	origin := originPart(issuer)
	path := strings.TrimPrefix(issuer, origin)
	return [2]string{
		issuer + "/.well-known/openid-configuration",
		origin + "/.well-known/oauth-authorization-server" + path,
	}
}

// discover starts a run whose endpoints come from discovery: the cached
// document first.
func (m *Machine) discover() Effect {
	return m.read(phDiscoveryRead, discoveryKey(m.Config.Issuer))
}

// onDiscoveryRead uses a cached document that has not expired, or fetches
// the document.
func (m *Machine) onDiscoveryRead(ev Event) Effect {
	if ev.Found {
		v := gjson.Parse(ev.Value)
		if v.IsObject() && v.Get("issuer").String() == m.Config.Issuer && ev.Now < v.Get("expiresAt").Int() {
			g := GenericEndpoints{
				Device:     v.Get("deviceEndpoint").String(),
				Token:      v.Get("tokenEndpoint").String(),
				Userinfo:   v.Get("userinfoEndpoint").String(),
				Revocation: v.Get("revocationEndpoint").String(),
				PostSecret: v.Get("postSecret").Bool(),
			}
			if m.useDiscovered(g) == nil {
				return m.discovered()
			}
		}
	}
	m.discoveryOld = found(ev)
	return m.fetchDiscovery(0)
}

// fetchDiscovery asks for the document at its n-th place.
func (m *Machine) fetchDiscovery(n int) Effect {
	m.discoveryTry = n
	req := &Request{
		Method:    "GET",
		URL:       discoveryURLs(m.Config.Issuer)[n],
		Headers:   map[string]string{"accept": "application/json", "user-agent": UserAgent},
		TimeoutMs: RequestTimeoutMs,
	}
	return m.batch(phDiscovering, Effect{Kind: EffectRequest, Request: req})
}

// onDiscoveryResponse reads a metadata document: the OpenID Connect place
// first, RFC 8414's when that has none.
func (m *Machine) onDiscoveryResponse(ev Event) Effect {
	resp := ev.Response
	if e := transportError(resp); e != nil {
		return m.fail(e)
	}
	if e := serverTrouble(resp); e != nil {
		return m.fail(e)
	}
	doc := gjson.Parse(resp.Body)
	if resp.Status != 200 || !gjson.Valid(resp.Body) || !doc.IsObject() {
		if m.discoveryTry == 0 {
			return m.fetchDiscovery(1)
		}
		urls := discoveryURLs(m.Config.Issuer)
		return m.fail(&Error{Code: CodeUnsupported, Status: resp.Status,
			Message: "issuer: no metadata document at " + urls[0] + " or " + urls[1] +
				" (HTTP " + strconv.Itoa(resp.Status) + "): check the issuer, or pass deviceEndpoint and tokenEndpoint"})
	}
	if got := strings.TrimRight(doc.Get("issuer").String(), "/"); got != m.Config.Issuer {
		return m.fail(&Error{Code: CodeInvalidResponse, Status: resp.Status,
			Message: "the metadata document names the issuer " + strconv.Quote(clip(got, 100)) + ", not " +
				strconv.Quote(m.Config.Issuer) + " (OpenID Connect Discovery section 4.3, RFC 8414 section 3.3): pass the issuer exactly as the server names it"})
	}
	if doc.Get("device_authorization_endpoint").String() == "" && m.Config.Device == "" {
		return m.fail(errorf(CodeUnsupported, "the server's metadata names no device_authorization_endpoint: it does not offer the device flow (RFC 8628), or pass deviceEndpoint and tokenEndpoint"))
	}
	g := GenericEndpoints{
		Device:     doc.Get("device_authorization_endpoint").String(),
		Token:      doc.Get("token_endpoint").String(),
		Userinfo:   doc.Get("userinfo_endpoint").String(),
		Revocation: doc.Get("revocation_endpoint").String(),
	}
	if methods := doc.Get("token_endpoint_auth_methods_supported"); methods.IsArray() {
		basic, post := false, false
		for _, x := range methods.Array() {
			basic = basic || x.String() == "client_secret_basic"
			post = post || x.String() == "client_secret_post"
		}
		g.PostSecret = post && !basic
	}
	if err := m.useDiscovered(g); err != nil {
		return m.fail(err)
	}
	d := m.Config.GenericEndpoints
	value := `{"issuer":` + strconv.Quote(d.Issuer) +
		`,"deviceEndpoint":` + strconv.Quote(d.Device) +
		`,"tokenEndpoint":` + strconv.Quote(d.Token) +
		`,"userinfoEndpoint":` + strconv.Quote(d.Userinfo) +
		`,"revocationEndpoint":` + strconv.Quote(d.Revocation) +
		`,"postSecret":` + strconv.FormatBool(d.PostSecret) +
		`,"expiresAt":` + strconv.FormatInt(ev.Now+discoveryLifetime(resp), 10) + `}`
	// The cache is best effort: a conflicting writer stored the same
	// document, and a store failure costs a fetch next time.
	save := Effect{Kind: EffectStoreSwap, Key: discoveryKey(d.Issuer), Old: m.discoveryOld, New: &value}
	return m.batch(phDiscovered, save, m.endpointsEvent())
}

// useDiscovered takes the discovered endpoints, configured ones first,
// checking each as a configured one is checked.
func (m *Machine) useDiscovered(g GenericEndpoints) *Error {
	c := &m.Config
	pick := func(field, configured, found string) (string, *Error) {
		if configured != "" {
			return configured, nil
		}
		u, err := serverURL(field, found, true)
		if err != nil {
			err.Code = CodeInvalidResponse
			err.Message = strings.Replace(err.Message, "invalid input: ", "the issuer's metadata: ", 1)
		}
		return u, err
	}
	var err *Error
	if g.Device, err = pick("device_authorization_endpoint", c.Device, g.Device); err != nil {
		return err
	}
	if g.Token, err = pick("token_endpoint", c.Token, g.Token); err != nil {
		return err
	}
	if g.Userinfo, err = pick("userinfo_endpoint", c.Userinfo, g.Userinfo); err != nil {
		return err
	}
	if g.Revocation, err = pick("revocation_endpoint", c.Revocation, g.Revocation); err != nil {
		return err
	}
	if g.Device == "" || g.Token == "" {
		return errorf(CodeInvalidResponse, "the issuer's metadata names no device_authorization_endpoint or token_endpoint")
	}
	c.Device, c.Token, c.Userinfo, c.Revocation = g.Device, g.Token, g.Userinfo, g.Revocation
	c.PostSecret = g.PostSecret
	c.Discover = false
	c.Discovered = true
	c.settle()
	m.configJSON = nil
	return nil
}

// discovered hands the host the origins it may now reach, then goes on.
func (m *Machine) discovered() Effect {
	return m.batch(phDiscovered, m.endpointsEvent())
}

// endpointsEvent names the origins of the discovered endpoints: hosts add
// them to their sandbox's allow-list (https only, except loopback).
func (m *Machine) endpointsEvent() Effect {
	o := newObj(nil)
	o.str("issuer", m.Config.Issuer)
	o.strs("origins", m.Config.Origins())
	o.str("type", "endpoints")
	return emit(o)
}

// discoveryLifetime reads Cache-Control's max-age, within bounds.
func discoveryLifetime(resp *Response) int64 {
	for _, part := range strings.Split(resp.Header("cache-control"), ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(name, "max-age") {
			continue
		}
		s, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64)
		if err != nil || s < 0 {
			break
		}
		return min(max(s*1000, discoveryMinMs), discoveryMaxMs)
	}
	return discoveryDefaultMs
}
