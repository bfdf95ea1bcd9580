package shared

import (
	"strconv"
	"testing"
)

func TestKnown(t *testing.T) {
	var k Known
	v := "v1"
	if _, ok := k.Lookup("a", &v); ok {
		t.Fatal("an empty Known found something")
	}
	k.Remember("a", "v1", []byte("sealed-1"))
	if raw, ok := k.Lookup("a", &v); !ok || string(raw) != "sealed-1" {
		t.Fatalf("Lookup of the value remembered: %q, %v", raw, ok)
	}
	other := "v2"
	if _, ok := k.Lookup("a", &other); ok {
		t.Fatal("Lookup found bytes for a value other than the one remembered")
	}
	if _, ok := k.Lookup("a", nil); ok {
		t.Fatal("Lookup found bytes for an absent value")
	}
	k.Swapped("a", &other, []byte("sealed-2"))
	if raw, ok := k.Lookup("a", &other); !ok || string(raw) != "sealed-2" {
		t.Fatalf("after a swap: %q, %v", raw, ok)
	}
	k.Swapped("a", nil, nil)
	if _, ok := k.Lookup("a", &other); ok {
		t.Fatal("a removed entry is still remembered")
	}
	for i := range 2 * maxKnown {
		k.Remember(strconv.Itoa(i), "v", []byte("x"))
	}
	if len(k.m) != maxKnown {
		t.Fatalf("%d keys remembered, want at most %d", len(k.m), maxKnown)
	}
}
