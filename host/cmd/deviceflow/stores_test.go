package main

import (
	"context"
	"errors"
	"testing"

	"github.com/deviceflow/deviceflow/host"
)

type checkedStore struct {
	host.Store
	err error
}

func (s checkedStore) Check(context.Context) error { return s.err }

type brokenStore struct{ host.Store }

func (brokenStore) Get(context.Context, string) (string, error) {
	return "", errors.New("disk on fire")
}

func TestPreflight(t *testing.T) {
	ctx := context.Background()
	down := errors.New("keyring down")
	for name, tc := range map[string]struct {
		st   host.Store
		want error
	}{
		"memory":          {host.NewMemoryStore(), nil},
		"checked, fine":   {checkedStore{host.NewMemoryStore(), nil}, nil},
		"checked, broken": {checkedStore{host.NewMemoryStore(), down}, down},
		"unreadable":      {brokenStore{host.NewMemoryStore()}, errors.New("disk on fire")},
	} {
		err := preflight(ctx, tc.st)
		if (err == nil) != (tc.want == nil) || (err != nil && err.Error() != tc.want.Error()) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
}

func TestOpenStoreDescribesItself(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore("file", dir+"/tokens.json")
	if err != nil {
		t.Fatal(err)
	}
	if st.kind != "file" || st.path != dir+"/tokens.json" || st.String() != "file "+dir+"/tokens.json" {
		t.Errorf("file store: %+v", st)
	}
	if m, _ := openStore("memory", ""); m.String() != "memory (this process only)" || m.path != "" {
		t.Errorf("memory store: %+v", m)
	}
	if _, err := openStore("shoebox", ""); err == nil {
		t.Error("unknown store opened")
	}
}
