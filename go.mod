module github.com/deviceflow/deviceflow

go 1.26.8

require (
	github.com/atotto/clipboard v0.1.4
	github.com/cli/browser v1.3.0
	github.com/extism/go-pdk v1.1.3
	github.com/extism/go-sdk v1.7.1
	github.com/mdp/qrterminal/v3 v3.2.1
	github.com/tetratelabs/wazero v1.9.0
	github.com/tidwall/gjson v1.18.0
	github.com/zalando/go-keyring v0.2.6
	golang.org/x/oauth2 v0.30.0
	golang.org/x/sys v0.29.0
	golang.org/x/term v0.13.0
)

require (
	al.essio.dev/pkg/shellescape v1.5.1 // indirect
	github.com/danieljoos/wincred v1.2.2 // indirect
	github.com/dylibso/observe-sdk/go v0.0.0-20240819160327-2d926c5d788a // indirect
	github.com/gobwas/glob v0.2.3 // indirect
	github.com/godbus/dbus/v5 v5.1.0 // indirect
	github.com/ianlancetaylor/demangle v0.0.0-20240805132620-81f5be970eca // indirect
	github.com/tetratelabs/wabin v0.0.0-20230304001439-f6f874872834 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
	go.opentelemetry.io/proto/otlp v1.3.1 // indirect
	google.golang.org/protobuf v1.34.2 // indirect
	rsc.io/qr v0.2.0 // indirect
)

// Keep JavaScript dependencies and Python virtual environments out of ./...
ignore (
	./examples/node/node_modules
	./examples/python/.venv
	./sdk/js/node_modules
	./sdk/python/.venv
)
