package kernel

import (
	"bytes"
	"context"
	"testing"

	"github.com/deviceflow/deviceflow/plugin/wasmfile"
)

// wasmModule assembles a module from sections, each an id and its body.
func wasmModule(sections ...[]byte) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range sections {
		b = wasmfile.AppendSection(b, s[0], s[1:])
	}
	return b
}

// sec is a section: its id, then its body.
func sec(id byte, body ...byte) []byte { return append([]byte{id}, body...) }

var (
	oneMemory   = sec(sectionMemory, 1, 0, 1)                   // min 1 page
	initType    = sec(1, 1, 0x60, 0, 0)                         // () -> ()
	initFunc    = sec(3, 1, 0)                                  // one function of type 0
	mutableI32  = sec(sectionGlobal, 1, 0x7f, 1, 0x41, 0, 0x0b) // (mut i32) = 0
	exportInit  = sec(sectionExport, 1, 11, '_', 'i', 'n', 'i', 't', 'i', 'a', 'l', 'i', 'z', 'e', 0, 0)
	activeHi    = sec(sectionData, 1, 0, 0x41, 16, 0x0b, 2, 'h', 'i') // "hi" at 16
	initSetsAll = sec(10, 1, 14, 0,                                   // one body, 14 bytes, no locals:
		0x41, 42, 0x24, 0, // global 0 = 42
		0x41, 0xe4, 0, 0x41, 7, 0x3a, 0, 0, // memory[100] = 7
		0x0b)
)

// TestSplitModule: a module in Go's shape splits into code without its
// data, with its mutable globals exported, and the segments.
func TestSplitModule(t *testing.T) {
	s, err := splitModule(wasmModule(initType, initFunc, oneMemory, mutableI32, exportInit, initSetsAll, activeHi))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s.code, []byte("hi")) {
		t.Error("the code kept the data section")
	}
	if len(s.globals) != 1 || s.globals[0] != globalExportPrefix+"0" || s.minPages != 1 {
		t.Errorf("globals %q, min %d pages", s.globals, s.minPages)
	}
	if len(s.segments) != 1 || s.segments[0].offset != 16 || string(s.segments[0].data) != "hi" {
		t.Errorf("segments %+v", s.segments)
	}
}

// TestSplitRefusesOtherShapes: what split cannot take apart safely is left
// whole.
func TestSplitRefusesOtherShapes(t *testing.T) {
	for name, wasm := range map[string][]byte{
		"not wasm":                  []byte("hello, world"),
		"no memory":                 wasmModule(),
		"a passive segment":         wasmModule(oneMemory, sec(sectionData, 1, 1, 2, 'h', 'i')),
		"a data count section":      wasmModule(oneMemory, sec(sectionDataCount, 1), activeHi),
		"an imported memory":        wasmModule(sec(sectionImport, 1, 3, 'e', 'n', 'v', 3, 'm', 'e', 'm', 2, 0, 1)),
		"an imported global":        wasmModule(sec(sectionImport, 1, 3, 'e', 'n', 'v', 1, 'g', 3, 0x7f, 0), oneMemory),
		"a global set from another": wasmModule(oneMemory, sec(sectionGlobal, 1, 0x7f, 1, 0x23, 0, 0x0b)),
		"a segment past the memory": wasmModule(oneMemory, sec(sectionData, 1, 0, 0x41, 0xff, 0xff, 0x03, 0x0b, 2, 'h', 'i')),
		"a shared memory":           wasmModule(sec(sectionMemory, 1, 3, 1, 1)),
		"globals but no exports":    wasmModule(oneMemory, mutableI32),
		"an export named as ours": wasmModule(oneMemory, mutableI32,
			sec(sectionExport, append(append([]byte{1, byte(len(globalExportPrefix) + 1)}, globalExportPrefix+"9"...), 3, 0)...)),
		"a truncated section": wasmModule(oneMemory)[:10],
	} {
		if _, err := splitModule(wasm); err != errNotSplittable {
			t.Errorf("%s: %v, want errNotSplittable", name, err)
		}
	}
}

// TestSplitModuleInstances: instances of a split module start with its
// data; from the third on they start from the snapshot, with the memory
// and globals _initialize left; a module that does not split runs whole.
func TestSplitModuleInstances(t *testing.T) {
	ctx := context.Background()
	m, err := Compile(ctx, wasmModule(initType, initFunc, oneMemory, mutableI32, exportInit, initSetsAll, activeHi), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	if m.data == nil {
		t.Fatal("the module did not split")
	}
	for i := range 4 {
		in, err := m.Instance(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		hi, _ := in.Memory().Read(16, 2)
		seven, _ := in.Memory().ReadByte(100)
		g := in.mod.ExportedGlobal(m.globals[0]).Get()
		if string(hi) != "hi" || seven != 7 || g != 42 {
			t.Errorf("instance %d: data %q, memory[100] %d, global %d; want \"hi\", 7, 42", i, hi, seven, g)
		}
		in.Close(ctx)
	}
	if m.snap.Load() == nil {
		t.Error("no snapshot after 4 instances")
	}

	whole, err := Compile(ctx, wasmModule(oneMemory, sec(sectionData, 1, 1, 2, 'h', 'i')), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close(ctx)
	for range 3 {
		in, err := whole.Instance(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if in.Memory().Size() != 65536 || whole.data != nil || whole.snap.Load() != nil {
			t.Error("a module that does not split: wrong memory, or split after all")
		}
		in.Close(ctx)
	}
}
