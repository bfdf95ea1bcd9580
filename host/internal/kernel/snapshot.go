package kernel

import (
	"errors"

	"github.com/tetratelabs/wazero/api"
)

// snapshot is an instance's state right after its reactor initialisation
// (_initialize) ran, before any call: its linear memory and its mutable
// globals. An instance started from it is in the same state without
// running _initialize again, which for a Go plugin is the larger part of
// making an instance (the runtime and every package initialised).
//
// What an instance carries outside its memory and globals is made afresh
// for each: its table (from the module's element segments, which Go's
// code never changes), its Extism memory and its WASI context. So
// instances started from one snapshot share only what the plugin's
// initialisation computed, such as the Go runtime's seeds for map hashing,
// as the goroutines of one Go process do; the plugin reads the time and
// random bytes it uses through host functions on every call.
type snapshot struct {
	img     *image
	pages   uint32   // the memory's size, in 64 KiB pages
	globals []uint64 // the mutable globals, as split.globals names them
}

// takeSnapshot records mod's memory and globals. mod must have run
// _initialize and nothing else.
func takeSnapshot(mod api.Module, names []string) (*snapshot, error) {
	mem := mod.Memory()
	b, ok := mem.Read(0, mem.Size())
	if !ok || uint64(len(b))%uint64(imagePage) != 0 {
		return nil, errors.New("kernel: the instance's memory cannot be read whole")
	}
	s := &snapshot{img: newImage(b), pages: mem.Size() / 65536}
	for _, name := range names {
		g := mod.ExportedGlobal(name)
		if g == nil {
			s.img.close()
			return nil, errors.New("kernel: the instance does not export " + name)
		}
		s.globals = append(s.globals, g.Get())
	}
	return s, nil
}

// restore brings mod, instantiated with s.img as its memory's image (see
// memoryAllocator), to the snapshot's state: its memory grown to the
// snapshot's size (and the image copied into it where the allocator does
// not), its globals set.
func (s *snapshot) restore(mod api.Module, names []string) error {
	mem := mod.Memory()
	if have := mem.Size() / 65536; have < s.pages {
		if _, ok := mem.Grow(s.pages - have); !ok {
			return errors.New("kernel: the instance's memory cannot grow to the snapshot's size")
		}
	}
	if !allocatorLoadsImages && !mem.Write(0, s.img.data) {
		return errors.New("kernel: the snapshot does not fit the instance's memory")
	}
	for i, name := range names {
		g, ok := mod.ExportedGlobal(name).(api.MutableGlobal)
		if !ok {
			return errors.New("kernel: the instance's global " + name + " cannot be set")
		}
		g.Set(s.globals[i])
	}
	return nil
}
