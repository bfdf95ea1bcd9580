package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/deviceflow/deviceflow/host"
)

// The stores --store offers. keyring is the default: tokens go to a plain
// file only when the person asks for one, and a keyring that does not work
// is an error that says so, never a silent fallback.
var storeKinds = host.StoreKinds

const defaultStore = host.StoreKeyring

// openedStore is a store and how to describe it to the person.
type openedStore struct {
	store host.Store
	kind  string
	// path is the store's file, for the file stores.
	path string
	// desc is the store's own description: "file /home/me/.config/...".
	desc string
}

func (s *openedStore) String() string { return s.desc }

// openStore opens the store --store and --store-path name.
func openStore(kind, path string) (*openedStore, error) {
	st, err := host.OpenStore(kind, path)
	if err != nil {
		return nil, err
	}
	o := &openedStore{store: st, kind: kind, desc: kind}
	if p, ok := st.(interface{ Path() string }); ok {
		o.path = p.Path()
	}
	if d, ok := st.(fmt.Stringer); ok {
		o.desc = d.String()
	}
	if kind == host.StoreMemory {
		o.desc = "memory (this process only)"
	}
	return o, nil
}

// storeKindList is the kinds for flag help: "keyring, file, encrypted, memory".
func storeKindList() string { return strings.Join(storeKinds, ", ") }

// preflight makes sure the store works before login asks the person for
// anything: a keyring that does not answer should fail now, not after the
// code was entered. Stores with a Check method (the keyring) are checked;
// others are read once.
func preflight(ctx context.Context, st host.Store) error {
	if c, ok := st.(interface{ Check(context.Context) error }); ok {
		return c.Check(ctx)
	}
	_, err := st.Get(ctx, "deviceflow-check")
	if errors.Is(err, host.ErrNoEntry) {
		return nil
	}
	return err
}
