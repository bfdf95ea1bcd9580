package deviceflow

import "github.com/deviceflow/deviceflow/plugin/flow"

// APIURL is the REST API root of the client's GitHub, without a trailing
// slash: https://api.github.com for github.com, https://HOST/api/v3 for
// GitHub Enterprise Server (and for an emulator). It is "" when BaseURL is
// not valid; the plugin's calls then say why.
func (c *Client) APIURL() string {
	ep, err := flow.EndpointsFor(&flow.Input{BaseURL: c.cfg.BaseURL, Server: c.cfg.server()})
	if err != nil || ep.Profile == flow.ProfileGeneric {
		return ""
	}
	return ep.API
}

// server is the generic server the Config names, if any.
func (c *Config) server() flow.Server {
	return flow.Server{
		Issuer: c.Issuer, DeviceEndpoint: c.DeviceEndpoint, TokenEndpoint: c.TokenEndpoint,
		UserinfoEndpoint: c.UserinfoEndpoint, RevocationEndpoint: c.RevocationEndpoint,
	}
}
