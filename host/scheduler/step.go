package scheduler

import (
	"encoding/json"
	"strconv"

	"github.com/tidwall/gjson"
)

// The poll export's input and answer, written and read without reflection:
// they cross on every poll of every flow, and encoding/json's validation
// and reflection took about 7 % of a node's CPU (bench-platform's
// profiles).

// pollInput is the poll export's input for a flow: client, the flow's
// client config as encoding/json writes it (an object, written once per
// flow), with its state added.
func pollInput(client []byte, state json.RawMessage) []byte {
	if len(state) == 0 {
		return client
	}
	b := make([]byte, 0, len(client)+len(state)+10)
	b = append(b, client[:len(client)-1]...)
	if len(client) > 2 {
		b = append(b, ',')
	}
	b = append(b, `"state":`...)
	b = append(b, state...)
	return append(b, '}')
}

// parseStep reads begin's and poll's answer; ok is false when it is not a
// JSON object or a member has the wrong type. Its authentication, present
// once per flow, is read with encoding/json.
func parseStep(out []byte) (a stepAnswer, ok bool) {
	if !gjson.ValidBytes(out) {
		return a, false
	}
	root := gjson.ParseBytes(out)
	if !root.IsObject() {
		return a, false
	}
	ok = true
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "status":
			a.Status, ok = str(v)
		case "state":
			a.State = raw(v)
		case "verification":
			a.Verification = raw(v)
		case "nextPollAt":
			a.NextPollAt, ok = integer(v)
		case "expiresAt":
			a.ExpiresAt, ok = integer(v)
		case "interval":
			a.Interval, ok = number(v)
		case "authentication":
			if v.Type != gjson.Null {
				a.Authentication = new(Authentication)
				ok = json.Unmarshal([]byte(v.Raw), a.Authentication) == nil
			}
		}
		return ok
	})
	return a, ok
}

// str is a string member (null reads as "").
func str(v gjson.Result) (string, bool) {
	switch v.Type {
	case gjson.String:
		return v.Str, true
	case gjson.Null:
		return "", true
	}
	return "", false
}

// raw is a member kept as it was written (null reads as absent).
func raw(v gjson.Result) json.RawMessage {
	if v.Type == gjson.Null {
		return nil
	}
	return json.RawMessage(v.Raw)
}

// integer is a whole-number member (null reads as 0).
func integer(v gjson.Result) (int64, bool) {
	switch v.Type {
	case gjson.Number:
		n, err := strconv.ParseInt(v.Raw, 10, 64)
		return n, err == nil
	case gjson.Null:
		return 0, true
	}
	return 0, false
}

// number is a numeric member (null reads as 0).
func number(v gjson.Result) (float64, bool) {
	switch v.Type {
	case gjson.Number:
		return v.Num, true
	case gjson.Null:
		return 0, true
	}
	return 0, false
}
