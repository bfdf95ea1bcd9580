package deviceflowtest

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// The names and ids of the device page's form, which tests and browsers
// fill in. They are part of the emulator's API and do not change.
const (
	// FormPath is where the page is served and the form posts to.
	FormPath = "/login/device"
	// FieldUserCode is the name and id of the code's text input.
	FieldUserCode = "user_code"
	// FieldAction is the name of the two submit buttons.
	FieldAction = "action"
	// ActionAuthorize is the value (and id) of the Authorize button. A form
	// posted without an action, as by pressing Enter, authorizes too.
	ActionAuthorize = "authorize"
	// ActionCancel is the value (and id) of the Cancel button.
	ActionCancel = "cancel"
)

// The values of the answer page's data-result attribute, on the element
// with id "result".
const (
	ResultAuthorized = "authorized"
	ResultCancelled  = "cancelled"
	ResultInvalid    = "invalid"
)

// pageData fills the page template.
type pageData struct {
	Code    string // the code to show in the input
	Result  string // "" for the bare form, else a Result constant
	Message string
}

var pageTemplate = template.Must(template.New("device").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if eq .Result "authorized"}}Device authorized{{else if eq .Result "cancelled"}}Authorization cancelled{{else if eq .Result "invalid"}}Code not recognised{{else}}Device activation{{end}} · GitHub device flow emulator</title>
<style>
body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem}
input{font:1.5rem ui-monospace,monospace;letter-spacing:.2em;text-transform:uppercase;width:100%;box-sizing:border-box;padding:.4rem}
button{font-size:1rem;padding:.4rem 1.2rem;margin:.8rem .5rem 0 0}
#result{padding:.8rem;border-radius:6px;background:#f6f8fa}
#result[data-result="authorized"]{background:#dafbe1}
#result[data-result="invalid"],#result[data-result="cancelled"]{background:#fff8c5}
small{color:#59636e}
</style>
</head>
<body>
<h1>Device activation</h1>
{{if .Result}}<p id="result" data-result="{{.Result}}" role="status">{{.Message}}</p>
{{if ne .Result "invalid"}}<p><a href="/login/device" id="again">Enter another code</a></p>
{{end}}{{end}}{{if or (not .Result) (eq .Result "invalid")}}<form id="device-form" method="post" action="/login/device">
<label for="user_code">Enter the code displayed on your device</label>
<input type="text" id="user_code" name="user_code" value="{{.Code}}" placeholder="XXXX-XXXX" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="9" required autofocus>
<div>
<button type="submit" id="authorize" name="action" value="authorize">Authorize</button>
<button type="submit" id="cancel" name="action" value="cancel" formnovalidate>Cancel</button>
</div>
</form>
{{end}}<p><small>A local emulator of GitHub's device flow. No real account is involved.</small></p>
</body>
</html>
`))

// handlePage serves the page where a person enters the user code (GET) and
// takes their answer (POST).
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		code := r.URL.Query().Get(FieldUserCode)
		if n := normalizeUserCode(code); n != "" {
			code = n
		}
		renderPage(w, http.StatusOK, pageData{Code: code})
		return
	}

	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		renderPage(w, http.StatusBadRequest, pageData{Result: ResultInvalid, Message: "The form could not be read."})
		return
	}
	typed := r.PostForm.Get(FieldUserCode)
	code := normalizeUserCode(typed)
	cancel := strings.EqualFold(r.PostForm.Get(FieldAction), ActionCancel)

	err := ErrUnknownCode
	if code != "" {
		err = s.decide(code, !cancel)
	}
	switch {
	case errors.Is(err, ErrUnknownCode), errors.Is(err, ErrCodeExpired), errors.Is(err, ErrAlreadyDecided):
		renderPage(w, http.StatusOK, pageData{
			Code:    typed,
			Result:  ResultInvalid,
			Message: "The code you entered was not recognised or has expired. Check it and try again.",
		})
	case err != nil:
		renderPage(w, http.StatusInternalServerError, pageData{Result: ResultInvalid, Message: err.Error()})
	case cancel:
		renderPage(w, http.StatusOK, pageData{
			Result:  ResultCancelled,
			Message: "Authorization cancelled. The device will not get access.",
		})
	default:
		clientID, login := s.whoApproves(code)
		renderPage(w, http.StatusOK, pageData{
			Result:  ResultAuthorized,
			Message: "Congratulations, you're all set! The device (app " + clientID + ") is now authorized as " + login + ".",
		})
	}
}

// whoApproves returns the client id and login behind a user code.
func (s *Server) whoApproves(code string) (clientID, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.byUser[code]; ok {
		return g.ClientID, g.client.Login
	}
	return "", ""
}

// renderPage writes the page.
func renderPage(w http.ResponseWriter, status int, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "deny")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, d)
}

// PageURL returns the URL of the device page with the user code filled in,
// as verification_uri_complete would be.
func (s *Server) PageURL(userCode string) string {
	u := s.URL() + FormPath
	if userCode != "" {
		u += "?" + FieldUserCode + "=" + url.QueryEscape(userCode)
	}
	return u
}
