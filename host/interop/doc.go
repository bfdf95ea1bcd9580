// Package interop holds no code: its test shows that the Go host, the
// Python SDK and the Node SDK share their stores. A token that one
// language's FileStore or EncryptedFileStore writes (layout v2, and for the
// encrypted store the AES-256-GCM envelope of wit/stores.md, with a key or
// a passphrase) is read by the other two, through each SDK's public store
// API in its own process. With a real Secret Service (GNOME Keyring in a
// private D-Bus session, started by the test), a secret each language's
// KeyringStore writes is read by the other two.
//
// The Python half needs sdk/python/.venv (sdk/python/scripts/venv.sh) and
// the Node half sdk/js/node_modules (npm ci in sdk/js), the keyring test
// dbus-run-session and gnome-keyring-daemon (apt-get install gnome-keyring
// dbus-daemon, as .ci/run does); with CI=true a
// missing one fails the test with those instructions, elsewhere it is
// skipped with them.
package interop
