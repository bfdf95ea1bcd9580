package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// migrationStep, when set (by tests), is called after each step of a
// migration: "renamed", "entry" (after each entry written) and "written"
// (before PATH.v1 is removed). A test's child process exits there to
// show that a kill at any point loses nothing.
var migrationStep func(step string)

func migrationReached(step string) {
	if migrationStep != nil {
		migrationStep(step)
	}
}

// v1Path is where a v1 store file waits while it is being migrated.
func (d *storeDir) v1Path() string { return d.path + ".v1" }

// v1LockPath is the lock file of a v1 store, which also orders migrations.
func (d *storeDir) v1LockPath() string { return d.path + ".lock" }

// migrate turns a layout v1 store (one JSON file at PATH, as deviceflow
// wrote before layout v2) into the layout v2 directory, under the flock on
// PATH.lock that v1 writers took:
//
//  1. when PATH is a regular file, it is checked (a file that is not a
//     store, or that the key does not open, is reported and left where it
//     is), then renamed to PATH.v1;
//  2. when PATH.v1 exists, PATH is made a directory and every entry of
//     PATH.v1 that the directory does not hold already is written to it;
//  3. PATH.v1 is removed.
//
// A process killed at any point leaves PATH.v1 behind, and whoever uses
// the store next finishes the job: nothing is lost, and running it again
// changes nothing. Entries written to the directory in the meantime win
// over the old file's.
func (d *storeDir) migrate(ctx context.Context, c storeCodec) error {
	d.migrating.Lock()
	defer d.migrating.Unlock()
	if d.migrated.Load() {
		return nil
	}
	unlock, err := lockFile(ctx, d.v1LockPath(), d.lockWait)
	if err != nil {
		return err
	}
	defer unlock()
	v1 := d.v1Path()
	fi, err := os.Stat(d.path)
	if err == nil && fi.Mode().IsRegular() {
		if _, err := os.Lstat(v1); err == nil {
			return &storeError{kind: ErrStoreCorrupt,
				msg: fmt.Sprintf("deviceflow: both %s (a version 1 store) and %s (one being migrated) exist; move one of them away", d.path, v1)}
		}
		// Refuse a file that is not a store before moving anything.
		if _, err := d.readV1(ctx, c, d.path); err != nil {
			return err
		}
		if err := os.Rename(d.path, v1); err != nil {
			return fmt.Errorf("deviceflow: cannot migrate the store file %s: %w", d.path, unwrapPath(err))
		}
		syncDir(filepath.Dir(d.path))
		migrationReached("renamed")
	}
	if _, err := os.Lstat(v1); err == nil {
		entries, err := d.readV1(ctx, c, v1)
		if err != nil {
			return err
		}
		if err := d.mkdir(); err != nil {
			return err
		}
		keys := make([]string, 0, len(entries))
		for k := range entries {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			err := d.locked(ctx, k, func() error {
				cur, err := d.read(ctx, c, k)
				if err != nil || cur != nil {
					return err
				}
				return d.write(ctx, c, k, entries[k])
			})
			if err != nil {
				return err
			}
			migrationReached("entry")
		}
		migrationReached("written")
		if err := os.Remove(v1); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("deviceflow: cannot remove %s after migrating it: %w", v1, unwrapPath(err))
		}
		syncDir(filepath.Dir(d.path))
	}
	if d.exists() {
		d.migrated.Store(true)
	}
	return nil
}

// readV1 reads and decodes a layout v1 store file; an empty file holds
// nothing.
func (d *storeDir) readV1(ctx context.Context, c storeCodec, file string) (map[string]string, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("deviceflow: cannot read the store file %s: %w", file, unwrapPath(err))
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]string{}, nil
	}
	doc, err := c.decode(ctx, file, raw)
	if err != nil {
		return nil, err
	}
	return parseV1Document(file, doc)
}
