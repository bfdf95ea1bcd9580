package deviceflow

import "github.com/deviceflow/deviceflow/plugin/flow"

// APIURL is the REST API root of the client's GitHub, without a trailing
// slash: https://api.github.com for github.com, https://HOST/api/v3 for
// GitHub Enterprise Server (and for an emulator). It is "" when BaseURL is
// not valid; the plugin's calls then say why.
func (c *Client) APIURL() string {
	ep, err := flow.DeriveEndpoints(c.cfg.BaseURL)
	if err != nil {
		return ""
	}
	return ep.API
}
