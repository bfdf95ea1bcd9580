//go:build wasip1

package main

// extismFuncs passes the contract's records to the host functions through
// Extism memory; driver.FuncHost writes and reads the records.
type extismFuncs struct{}

// call passes bytes to a host function and reads its answer, freeing both
// blocks.
func call(fn func(uint64) uint64, in []byte) []byte {
	off := store(in)
	defer extismFree(off)
	out := fn(off)
	if out == 0 {
		return nil
	}
	defer extismFree(out)
	return load(out)
}

func (extismFuncs) HTTPRequest(req []byte) []byte { return call(hostHTTPRequest, req) }

func (extismFuncs) Sleep(ms int64) bool { return hostSleep(ms) != 0 }

func (extismFuncs) Now() int64 { return hostNow() }

func (extismFuncs) Monotonic() int64 { return hostMonotonic() }

func (extismFuncs) StoreGet(key []byte) []byte { return call(hostStoreGet, key) }

func (extismFuncs) StoreSwap(swap []byte) []byte { return call(hostStoreSwap, swap) }

func (extismFuncs) StoreLock(lock []byte) []byte { return call(hostStoreLock, lock) }

func (extismFuncs) StoreUnlock(lease []byte) []byte { return call(hostStoreUnlock, lease) }

func (extismFuncs) Emit(event []byte) bool {
	off := store(event)
	defer extismFree(off)
	return hostEmit(off) != 0
}
