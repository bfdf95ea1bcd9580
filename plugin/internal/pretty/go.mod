// The plugin's stand-in for github.com/tidwall/pretty: the wasm builds
// replace that module with this directory (see the Makefile's WASM_MODFILE
// and pretty.go).
module github.com/tidwall/pretty

go 1.26.8
