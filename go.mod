module github.com/deviceflow/deviceflow

go 1.26.8

require (
	github.com/atotto/clipboard v0.1.4
	github.com/cli/browser v1.3.0
	github.com/jackc/pgx/v5 v5.13.0
	github.com/mdp/qrterminal/v3 v3.2.1
	github.com/redis/go-redis/v9 v9.23.0
	github.com/tetratelabs/wazero v1.9.0
	github.com/tidwall/gjson v1.18.0
	github.com/zalando/go-keyring v0.2.6
	golang.org/x/oauth2 v0.30.0
	golang.org/x/sys v0.48.0
	golang.org/x/term v0.13.0
)

require (
	al.essio.dev/pkg/shellescape v1.5.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/danieljoos/wincred v1.2.2 // indirect
	github.com/godbus/dbus/v5 v5.1.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	rsc.io/qr v0.2.0 // indirect
)

// Keep JavaScript dependencies and Python virtual environments out of ./...
ignore (
	./examples/node/node_modules
	./examples/python/.venv
	./sdk/js/node_modules
	./sdk/python/.venv
)
