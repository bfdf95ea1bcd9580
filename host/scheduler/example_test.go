package scheduler_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/deviceflow/deviceflow/host"
	"github.com/deviceflow/deviceflow/host/scheduler"
	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

// A node runs flows for many tenants; results arrive through OnResult and
// Wait. (Here GitHub is the emulator, which approves each code itself at
// its second poll.)
func Example() {
	emu := deviceflowtest.NewServer(deviceflowtest.Config{Interval: 100 * time.Millisecond, AutoApprove: 2})
	defer emu.Close()

	results := make(chan scheduler.Result, 10)
	s, err := scheduler.New(scheduler.Config{
		Store:    host.NewMemoryStore(), // share a Redis or PostgreSQL store between nodes
		Host:     host.Options{BaseURL: emu.URL()},
		OnResult: func(r scheduler.Result) { results <- r },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go s.Run(ctx)

	id, v, err := s.Start(ctx, "acme", scheduler.ClientConfig{ClientID: "Ov23liExample", Scopes: []string{"repo"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("code shown:", v.UserCode != "")

	r, err := s.Wait(ctx, id) // on any node sharing the store
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Tenant, r.State, r.Authentication.Scopes)
	fmt.Println("OnResult:", (<-results).ID == id)
	// Output:
	// code shown: true
	// acme complete [repo]
	// OnResult: true
}
