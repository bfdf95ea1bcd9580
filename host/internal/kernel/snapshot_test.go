package kernel

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/deviceflow/deviceflow/plugin"
)

// contents reads an image's bytes, from its memory file when it has one.
func (img *image) contents(t testing.TB) []byte {
	t.Helper()
	if img.file == nil {
		return img.data
	}
	b := make([]byte, img.size)
	if _, err := img.file.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

// resetSnapshot makes the module forget its snapshot, as if no instance
// had been made yet.
func resetSnapshot(m *Module) {
	m.taking.Lock()
	defer m.taking.Unlock()
	if s := m.snap.Swap(nil); s != nil {
		s.img.close()
	}
	m.made.Store(0)
}

// TestDataImageIsWazerosInitialMemory: the plugin splits, and the image of
// its data segments is byte for byte the memory wazero gives an instance
// of the whole module before _initialize.
func TestDataImageIsWazerosInitialMemory(t *testing.T) {
	m := compile(t)
	if m.data == nil {
		t.Fatal("the plugin did not split: instances are made the slow way")
	}
	if len(m.globals) != 8 {
		t.Errorf("%d mutable globals exported, want Go's 8 (SP, CTXT, g, RET0-3, PAUSE)", len(m.globals))
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, plugin.Wasm)
	if err != nil {
		t.Fatal(err)
	}
	// Whole-module instantiation needs the imports; defining them as
	// never-called stubs is enough to read memory before any call.
	byModule := map[string][]api.FunctionDefinition{}
	for _, d := range cm.ImportedFunctions() {
		mod, _, _ := d.Import()
		byModule[mod] = append(byModule[mod], d)
	}
	noop := api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
	for name, defs := range byModule {
		b := rt.NewHostModuleBuilder(name)
		for _, d := range defs {
			_, field, _ := d.Import()
			b.NewFunctionBuilder().WithGoModuleFunction(noop, d.ParamTypes(), d.ResultTypes()).Export(field)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mod, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := mod.Memory().Read(0, mod.Memory().Size())
	got := m.data.contents(t)
	if len(got) < len(want) || !bytes.Equal(got[:len(want)], want) || !bytes.Equal(got[len(want):], make([]byte, len(got)-len(want))) {
		t.Fatalf("the data image (%d bytes) is not wazero's initial memory (%d bytes)", len(got), len(want))
	}
}

// TestSnapshotInstancesAnswerAsInitializedOnes: the second instance made
// leaves a snapshot, and instances started from it answer every call as an
// instance that ran _initialize does, over a sequence of calls on one
// instance.
func TestSnapshotInstancesAnswerAsInitializedOnes(t *testing.T) {
	m := compile(t)
	resetSnapshot(m)
	ctx := context.Background()
	for i := range 2 {
		in, err := m.Instance(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		in.Close(ctx)
		if got := m.snap.Load() != nil; got != (i == 1) {
			t.Fatalf("after %d instances, snapshot taken: %v", i+1, got)
		}
	}
	calls := []struct{ name, input string }{
		{"info", `{}`},
		{"authenticate", `not json`},
		{"authenticate", `{"clientId":"Iv1.0123456789abcdef"}`},
		{"begin", `{"clientId":""}`},
		{"poll", `{"state":{"v":99}}`},
		{"check", `{}`},
		{"refresh", `[]`},
		{"info", `{}`},
	}
	answers := func(in *Instance) []string {
		var out []string
		for _, c := range calls {
			rc, b, err := in.Call(ctx, c.name, []byte(c.input))
			out = append(out, fmt.Sprintf("%s %s: %d %s %v", c.name, c.input, rc, b, err))
		}
		return out
	}
	ref, err := m.initialized(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close(ctx)
	want := answers(ref)
	for i := range 3 {
		in, err := m.Instance(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := answers(in)
		in.Close(ctx)
		for j := range want {
			if got[j] != want[j] {
				t.Errorf("instance %d from the snapshot answered\n%s\nwhere an initialised one answered\n%s", i, got[j], want[j])
			}
		}
	}
}

// TestSnapshotInstancesAreIsolated: what one instance started from the
// snapshot writes to its memory is seen neither by another nor by the
// snapshot, and survives the other's closing.
func TestSnapshotInstancesAreIsolated(t *testing.T) {
	m := compile(t)
	ctx := context.Background()
	for m.snap.Load() == nil {
		in, err := m.Instance(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close(ctx)
	}
	a, err := m.Instance(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	b, err := m.Instance(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// An offset in the data, one in the heap, the last byte.
	size := a.Memory().Size()
	for _, off := range []uint32{4096, size / 2, size - 1} {
		orig, _ := a.Memory().ReadByte(off)
		a.Memory().WriteByte(off, ^orig)
		if v, _ := b.Memory().ReadByte(off); v != orig {
			t.Fatalf("byte %d: written in one instance, seen in another", off)
		}
		c, err := m.Instance(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := c.Memory().ReadByte(off); v != orig {
			t.Fatalf("byte %d: written in one instance, seen in a new one", off)
		}
		c.Close(ctx)
	}
	last, _ := b.Memory().ReadByte(size - 1)
	b.Close(ctx)
	if v, _ := a.Memory().ReadByte(size - 1); v != ^last {
		t.Fatal("an instance lost what it wrote when another closed")
	}
	if _, out, err := a.Call(ctx, "info", []byte(`{}`)); err != nil || !bytes.Contains(out, []byte(`"abi"`)) {
		t.Fatalf("an instance stopped working when another closed: %s %v", out, err)
	}
}

// TestInstancesConcurrently: instances made from many goroutines while the
// snapshot is being taken all work, and one snapshot is kept.
func TestInstancesConcurrently(t *testing.T) {
	m := compile(t)
	resetSnapshot(m)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 8 {
		wg.Go(func() {
			for range 4 {
				in, err := m.Instance(ctx, nil)
				if err != nil {
					errs <- err
					return
				}
				if _, out, err := in.Call(ctx, "info", []byte(`{}`)); err != nil || !bytes.Contains(out, []byte(`"abi"`)) {
					errs <- fmt.Errorf("info: %s %v", out, err)
				}
				in.Close(ctx)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if m.snap.Load() == nil {
		t.Error("32 instances and no snapshot")
	}
}
