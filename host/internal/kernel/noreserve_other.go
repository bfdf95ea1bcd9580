//go:build freebsd || aix

package kernel

// mapNoReserve is 0 where the flag does not exist: a mapping without
// access is not committed there until its protection changes.
const mapNoReserve = 0
