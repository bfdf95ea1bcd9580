package bench

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/deviceflow/deviceflow/plugin"
)

// BenchmarkPluginSize reports the embedded plugin's size raw and
// gzip-compressed (default and best compression): what a download, an npm
// or a PyPI package carries. Its ns/op is the time to gzip the plugin.
func BenchmarkPluginSize(b *testing.B) {
	gz := func(level int) int {
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, level)
		w.Write(plugin.Wasm)
		w.Close()
		return buf.Len()
	}
	var n int
	for b.Loop() {
		n = gz(gzip.DefaultCompression)
	}
	b.ReportMetric(float64(len(plugin.Wasm)), "raw-bytes")
	b.ReportMetric(float64(n), "gzip-bytes")
	b.ReportMetric(float64(gz(gzip.BestCompression)), "gzip9-bytes")
}
