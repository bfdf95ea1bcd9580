package main

import (
	"github.com/deviceflow/deviceflow/plugin"
	"github.com/deviceflow/deviceflow/plugin/flow"
)

func version() string { return flow.Version + " (plugin ABI " + plugin.ABIVersion + ")" }
