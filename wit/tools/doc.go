// Package tools pins the WIT tooling (wit-bindgen-go) and holds the test
// that checks the compiled plugin against wit/deviceflow.wit. It is a module
// of its own so that the WIT parser's dependencies stay out of the main
// module.
package tools
