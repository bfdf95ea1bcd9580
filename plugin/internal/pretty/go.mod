// The plugin's stand-in for github.com/tidwall/pretty: the root go.mod
// replaces that module with this directory. See doc.go.
module github.com/tidwall/pretty

go 1.26.8
