package kernel

import (
	"bytes"
	"os"
)

// imagePage is the granularity of an image: the host's page size, which
// divides WebAssembly's 64 KiB pages on every platform Go supports.
var imagePage = os.Getpagesize()

// image is the contents an instance's linear memory starts with, size
// bytes. On Linux the bytes are kept in a
// memory file (memfd) that each instance maps privately, so an instance
// starts without copying and shares the pages it only reads with every
// other instance; elsewhere, or if a memory file cannot be made, they are
// kept in data and copied into each instance.
type image struct {
	size uint64
	file *os.File // the bytes, or nil
	data []byte   // the bytes when file is nil
}

// newImage makes an image of b, whose length is a multiple of imagePage.
// Only the pages of b that are not all zero are written to a memory file;
// the others stay holes that read as zeros.
func newImage(b []byte) *image {
	size := uint64(len(b))
	if f := memoryFile(size); f != nil {
		if writeRuns(f, b) == nil {
			return &image{size: size, file: f}
		}
		f.Close()
	}
	return &image{size: size, data: bytes.Clone(b)}
}

// writeRuns writes each run of pages of b that are not all zero to f at
// its offset.
func writeRuns(f *os.File, b []byte) error {
	zero := make([]byte, imagePage)
	start := -1 // the first page of the current run, or -1
	for off := 0; off <= len(b); off += imagePage {
		if off < len(b) && !bytes.Equal(b[off:off+imagePage], zero) {
			if start < 0 {
				start = off
			}
			continue
		}
		if start >= 0 {
			if _, err := f.WriteAt(b[start:off], int64(start)); err != nil {
				return err
			}
			start = -1
		}
	}
	return nil
}

// close releases the image's memory file. Instances that mapped it keep
// their mappings.
func (img *image) close() {
	if img != nil && img.file != nil {
		img.file.Close()
	}
}

// dataImage is the initial memory that a split module's data segments
// describe: its minimum size, rounded up to whole host pages.
func dataImage(s *split) *image {
	b := make([]byte, roundUp(uint64(s.minPages)*65536, uint64(imagePage)))
	for _, seg := range s.segments {
		copy(b[seg.offset:], seg.data)
	}
	return newImage(b)
}

func roundUp(n, to uint64) uint64 {
	return (n + to - 1) / to * to
}
