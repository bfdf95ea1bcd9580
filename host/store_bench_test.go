package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkFileStoreSwap measures one compare-and-swap of an entry (lock,
// read, write, fsync, rename, directory fsync) in a store of 10 entries
// and in one of 10,000 entries of about 800 bytes (8 MB): the cost must
// not grow with the store, since a write touches one entry's files only.
func BenchmarkFileStoreSwap(b *testing.B) {
	value := strings.Repeat("x", 800)
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "tokens.json")
			os.Mkdir(path, 0o700)
			// Filled directly: the entries' own writes are not measured.
			for i := range n {
				key := fmt.Sprintf("deviceflow:v1:github.com:Iv1.app%05d:repo", i)
				doc, _ := encodeEntry(key, value)
				if err := os.WriteFile(entryPath(path, key), doc, 0o600); err != nil {
					b.Fatal(err)
				}
			}
			s := fileStoreAt(b, path)
			ctx := context.Background()
			key := "deviceflow:v1:github.com:Iv1.app00003:repo"
			cur := value
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				next := fmt.Sprintf("%s-%d", value, i)
				ok, _, err := s.Swap(ctx, key, &cur, &next)
				if err != nil || !ok {
					b.Fatalf("swap %d: %v, %v", i, ok, err)
				}
				cur = next
			}
		})
	}
}
