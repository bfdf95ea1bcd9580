package shared

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deviceflow/deviceflow/host"
)

func TestCodecKeys(t *testing.T) {
	ctx := context.Background()
	t.Setenv(host.EncryptionKeyEnv, "")
	if _, err := NewCodec("test store", "t", KeyConfig{}); !errors.Is(err, host.ErrNoEncryptionKey) || !strings.Contains(err.Error(), host.EncryptionKeyEnv) {
		t.Fatalf("no key: %v", err)
	}
	k, _ := host.ParseEncryptionKey(host.GenerateKey())
	if _, err := NewCodec("test store", "t", KeyConfig{Key: &k, Plain: true}); err == nil {
		t.Fatal("a key and Plain together were accepted")
	}
	if _, err := NewCodec("test store", "t", KeyConfig{Key: &k, KeyFunc: func(context.Context) (host.EncryptionKey, error) { return k, nil }}); err == nil {
		t.Fatal("Key and KeyFunc together were accepted")
	}
	ring := host.KeyFromStore(host.NewMemoryStore(), "the OS keyring")
	if _, err := NewCodec("test store", "t", KeyConfig{Key: &ring}); !errors.Is(err, host.ErrNoEncryptionKey) {
		t.Fatalf("a keyring key: %v", err)
	}

	// The key from the environment, and from a callback called once.
	t.Setenv(host.EncryptionKeyEnv, "passphrase:correct horse battery staple")
	env, err := NewCodec("test store", "t", KeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := env.Encode(ctx, "k", "v")
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	fromFunc, _ := NewCodec("test store", "t", KeyConfig{KeyFunc: func(context.Context) (host.EncryptionKey, error) {
		calls++
		return host.ParseEncryptionKey("passphrase:correct horse battery staple")
	}})
	for range 3 {
		if v, err := fromFunc.Decode(ctx, "here", "k", raw); err != nil || v != "v" {
			t.Fatalf("Decode = %q, %v", v, err)
		}
	}
	if calls != 1 {
		t.Errorf("KeyFunc called %d times, want 1", calls)
	}
	failing, _ := NewCodec("test store", "t", KeyConfig{KeyFunc: func(context.Context) (host.EncryptionKey, error) {
		return host.EncryptionKey{}, errors.New("kms down")
	}})
	if _, err := failing.Encode(ctx, "k", "v"); !errors.Is(err, host.ErrNoEncryptionKey) || !strings.Contains(err.Error(), "kms down") {
		t.Fatalf("a failing KeyFunc: %v", err)
	}
}

func TestCodecBindsTenantAndKey(t *testing.T) {
	ctx := context.Background()
	k, _ := host.ParseEncryptionKey(host.GenerateKey())
	a, _ := NewCodec("test store", "a", KeyConfig{Key: &k})
	b, _ := NewCodec("test store", "b", KeyConfig{Key: &k})
	raw, err := a.Encode(ctx, "k", "v")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Decode(ctx, "here", "k", raw); !errors.Is(err, host.ErrStoreCorrupt) {
		t.Fatalf("another tenant's entry: %v", err)
	}
	if _, err := a.Decode(ctx, "here", "other", raw); !errors.Is(err, host.ErrStoreCorrupt) {
		t.Fatalf("another key's entry: %v", err)
	}
	for _, bad := range []string{"", "{}", `{"version":2}`, "not json", `{"version":3,"tenant":"a","key":"k","value":"v"}`} {
		p, _ := NewCodec("test store", "a", KeyConfig{Plain: true})
		if _, err := p.Decode(ctx, "here", "k", []byte(bad)); !errors.Is(err, host.ErrStoreCorrupt) {
			t.Errorf("Decode(%q) = %v, want ErrStoreCorrupt", bad, err)
		}
	}
}

func TestCheckTenant(t *testing.T) {
	for _, ok := range []string{"", "a", "acme-corp.eu_1", strings.Repeat("x", 64)} {
		if _, err := CheckTenant(ok); err != nil {
			t.Errorf("CheckTenant(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"a:b", "a b", "é", strings.Repeat("x", 65), "a*"} {
		if _, err := CheckTenant(bad); err == nil {
			t.Errorf("CheckTenant(%q) accepted", bad)
		}
	}
	if _, err := LeaseTTL(time.Millisecond); err == nil {
		t.Error("a 1 ms lease TTL was accepted")
	}
}

func TestPoll(t *testing.T) {
	tries := 0
	err := Poll(context.Background(), 0, func(context.Context) (bool, error) { tries++; return false, nil })
	if !errors.Is(err, host.ErrBusy) || tries != 1 {
		t.Fatalf("a wait of 0: %v after %d tries", err, tries)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = Poll(ctx, time.Minute, func(context.Context) (bool, error) { return false, nil })
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, host.ErrBusy) {
		t.Fatalf("a context that ends: %v", err)
	}
}

func TestEntryTTL(t *testing.T) {
	flows := func(k string) time.Duration {
		if strings.HasPrefix(k, "flow:") {
			return time.Hour
		}
		return 0
	}
	for _, c := range []struct {
		key    string
		ttl    time.Duration
		ttlFor func(string) time.Duration
		want   time.Duration
	}{
		{"k", 0, nil, 0},
		{"k", time.Minute, nil, time.Minute},
		{"k", -time.Minute, nil, 0},
		{"flow:1", time.Minute, flows, time.Hour},
		{"token", time.Minute, flows, 0},
	} {
		if got := EntryTTL(c.key, c.ttl, c.ttlFor); got != c.want {
			t.Errorf("EntryTTL(%q, %v) = %v, want %v", c.key, c.ttl, got, c.want)
		}
	}
}
