package kernel

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/deviceflow/deviceflow/plugin/wasmfile"
)

// split is a module taken apart so that its instances can start from an
// image of linear memory instead of from its data segments: the code
// without the data section, with every mutable global exported so that the
// kernel can read and set it, and the initial memory the data segments
// describe.
//
// Instantiating code costs no copying (the image is mapped) and lets the
// kernel start later instances from a snapshot of one whose reactor
// initialisation (_initialize) has run, instead of running it again: see
// snapshot.go.
type split struct {
	code     []byte
	segments []dataSegment // active, memory 0, constant offsets
	minPages uint32        // the memory's minimum
	globals  []string      // the export names of the mutable globals, by index
}

// dataSegment is an active data segment of memory 0 at a constant offset.
type dataSegment struct {
	offset uint32
	data   []byte
}

// Section ids of the WebAssembly binary format.
const (
	sectionImport    = 2
	sectionMemory    = 5
	sectionGlobal    = 6
	sectionExport    = 7
	sectionData      = 11
	sectionDataCount = 12
)

// globalExportPrefix names the exports split adds for the module's mutable
// globals; the global's index follows.
const globalExportPrefix = "deviceflow.kernel.global."

var errNotSplittable = errors.New("kernel: the module is not in the form split handles")

// splitModule takes wasm apart when it has the shape Go's linker writes: no
// imported memory or globals, one memory with an unshared 32-bit limit,
// globals initialised by constants, active data segments with i32.const
// offsets inside the initial memory and no data count section (so that no
// code refers to a segment). Anything else is errNotSplittable and is
// instantiated as it is.
func splitModule(wasm []byte) (*split, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:8], []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, errNotSplittable
	}
	s := &split{}
	code := append(make([]byte, 0, len(wasm)), wasm[:8]...)
	memories := 0
	var mutable []uint32
	for p := 8; p < len(wasm); {
		id := wasm[p]
		size, n, err := uleb(wasm[p+1:])
		if err != nil || uint64(len(wasm)-p-1-n) < size {
			return nil, errNotSplittable
		}
		body := wasm[p+1+n : p+1+n+int(size)]
		p += 1 + n + int(size)
		switch id {
		case sectionImport:
			if err := checkImports(body); err != nil {
				return nil, err
			}
		case sectionMemory:
			if memories, s.minPages, err = readMemory(body); err != nil {
				return nil, err
			}
		case sectionGlobal:
			if mutable, err = readGlobals(body); err != nil {
				return nil, err
			}
		case sectionExport:
			for _, i := range mutable {
				s.globals = append(s.globals, globalExportPrefix+strconv.Itoa(int(i)))
			}
			if body, err = addGlobalExports(body, mutable); err != nil {
				return nil, err
			}
		case sectionData:
			if s.segments, err = readSegments(body); err != nil {
				return nil, err
			}
			continue // dropped from the code
		case sectionDataCount:
			return nil, errNotSplittable
		}
		code = wasmfile.AppendSection(code, id, body)
	}
	if memories != 1 || (len(mutable) > 0 && s.globals == nil) {
		return nil, errNotSplittable
	}
	for _, seg := range s.segments {
		if uint64(seg.offset)+uint64(len(seg.data)) > uint64(s.minPages)*65536 {
			return nil, errNotSplittable
		}
	}
	s.code = code
	return s, nil
}

// checkImports refuses imported memories and globals: they would shift the
// indices split relies on, and their contents are not the module's.
func checkImports(body []byte) error {
	count, p, err := uleb(body)
	if err != nil {
		return errNotSplittable
	}
	for range count {
		for range 2 { // module and field names
			n, k, err := uleb(body[p:])
			if err != nil || uint64(len(body)-p-k) < n {
				return errNotSplittable
			}
			p += k + int(n)
		}
		if p >= len(body) {
			return errNotSplittable
		}
		kind := body[p]
		p++
		switch kind {
		case 0: // function: a type index
			_, k, err := uleb(body[p:])
			if err != nil {
				return errNotSplittable
			}
			p += k
		case 1: // table: a reference type and limits
			if p >= len(body) {
				return errNotSplittable
			}
			k, err := skipLimits(body[p+1:])
			if err != nil {
				return err
			}
			p += 1 + k
		default: // memory, global, or something newer
			return errNotSplittable
		}
	}
	if p != len(body) {
		return errNotSplittable
	}
	return nil
}

// skipLimits reads table limits and returns their length.
func skipLimits(b []byte) (int, error) {
	if len(b) == 0 || b[0] > 1 {
		return 0, errNotSplittable
	}
	p := 1
	for range 1 + int(b[0]) {
		_, k, err := uleb(b[p:])
		if err != nil {
			return 0, errNotSplittable
		}
		p += k
	}
	return p, nil
}

// readMemory reads the memory section: how many memories, and the first's
// minimum in pages. Shared and 64-bit memories are refused.
func readMemory(body []byte) (int, uint32, error) {
	count, p, err := uleb(body)
	if err != nil || count != 1 || p >= len(body) || body[p] > 1 {
		return 0, 0, errNotSplittable
	}
	min, _, err := uleb(body[p+1:])
	if err != nil || min > 65536 {
		return 0, 0, errNotSplittable
	}
	return 1, uint32(min), nil
}

// readGlobals reads the global section and returns the indices of the
// mutable globals. Only constant initialisers are accepted.
func readGlobals(body []byte) ([]uint32, error) {
	count, p, err := uleb(body)
	if err != nil {
		return nil, errNotSplittable
	}
	var mutable []uint32
	for i := range count {
		if p+3 > len(body) {
			return nil, errNotSplittable
		}
		typ, mut, op := body[p], body[p+1], body[p+2]
		p += 3
		var k int
		switch {
		case op == 0x41 && typ == 0x7f: // i32.const
			_, k, err = sleb(body[p:], 5)
		case op == 0x42 && typ == 0x7e: // i64.const
			_, k, err = sleb(body[p:], 10)
		case op == 0x43 && typ == 0x7d: // f32.const
			k = 4
		case op == 0x44 && typ == 0x7c: // f64.const
			k = 8
		default:
			return nil, errNotSplittable
		}
		if err != nil || p+k >= len(body) || body[p+k] != 0x0b || mut > 1 {
			return nil, errNotSplittable
		}
		p += k + 1
		if mut == 1 {
			mutable = append(mutable, uint32(i))
		}
	}
	if p != len(body) {
		return nil, errNotSplittable
	}
	return mutable, nil
}

// addGlobalExports appends an export for each global in mutable to the
// export section body, refusing a module that already uses such a name.
func addGlobalExports(body []byte, mutable []uint32) ([]byte, error) {
	count, p, err := uleb(body)
	if err != nil {
		return nil, errNotSplittable
	}
	for range count {
		n, k, err := uleb(body[p:])
		if err != nil || uint64(len(body)-p-k) < n {
			return nil, errNotSplittable
		}
		if bytes.HasPrefix(body[p+k:p+k+int(n)], []byte(globalExportPrefix)) {
			return nil, errNotSplittable
		}
		p += k + int(n)
		if p >= len(body) {
			return nil, errNotSplittable
		}
		_, k, err = uleb(body[p+1:])
		if err != nil {
			return nil, errNotSplittable
		}
		p += 1 + k
	}
	if p != len(body) {
		return nil, errNotSplittable
	}
	out := wasmfile.AppendULEB(nil, count+uint64(len(mutable)))
	out = append(out, body[len(wasmfile.AppendULEB(nil, count)):]...)
	for _, i := range mutable {
		name := globalExportPrefix + strconv.Itoa(int(i))
		out = wasmfile.AppendULEB(out, uint64(len(name)))
		out = append(out, name...)
		out = append(out, 3) // a global
		out = wasmfile.AppendULEB(out, uint64(i))
	}
	return out, nil
}

// readSegments reads a data section made only of active segments of memory
// 0 with an i32.const offset, the form Go's linker writes.
func readSegments(body []byte) ([]dataSegment, error) {
	count, p, err := uleb(body)
	if err != nil {
		return nil, errNotSplittable
	}
	var segs []dataSegment
	for range count {
		if p+2 > len(body) || body[p] != 0 || body[p+1] != 0x41 {
			return nil, errNotSplittable
		}
		off, k, err := sleb(body[p+2:], 5)
		if err != nil || off < 0 || off > 1<<32-1 {
			return nil, errNotSplittable
		}
		p += 2 + k
		if p >= len(body) || body[p] != 0x0b {
			return nil, errNotSplittable
		}
		size, k, err := uleb(body[p+1:])
		if err != nil || uint64(len(body)-p-1-k) < size {
			return nil, errNotSplittable
		}
		p += 1 + k
		segs = append(segs, dataSegment{uint32(off), body[p : p+int(size)]})
		p += int(size)
	}
	if p != len(body) {
		return nil, errNotSplittable
	}
	return segs, nil
}

// uleb is wasmfile.ULEB, failing with errNotSplittable.
func uleb(b []byte) (uint64, int, error) {
	v, n, ok := wasmfile.ULEB(b)
	if !ok {
		return 0, 0, errNotSplittable
	}
	return v, n, nil
}

// sleb is wasmfile.SLEB, failing with errNotSplittable.
func sleb(b []byte, max int) (int64, int, error) {
	v, n, ok := wasmfile.SLEB(b, max)
	if !ok {
		return 0, 0, errNotSplittable
	}
	return v, n, nil
}
