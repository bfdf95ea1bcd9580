// Package interop holds no code: its test shows that the Go host, the
// Python SDK and the Node SDK share their stores. A token that one
// language's FileStore or EncryptedFileStore writes (layout v2, and for the
// encrypted store the AES-256-GCM envelope of wit/stores.md, with a key or
// a passphrase) is read by the other two, through each SDK's public store
// API in its own process.
//
// The Python half needs sdk/python/.venv (sdk/python/scripts/venv.sh) and
// the Node half sdk/js/node_modules (npm ci in sdk/js); with CI=true a
// missing one fails the test with those instructions, elsewhere it is
// skipped with them.
package interop
