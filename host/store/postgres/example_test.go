package pgstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	pgstore "github.com/deviceflow/deviceflow/host/store/postgres"
	"github.com/deviceflow/deviceflow/sdk/deviceflow"
)

// Every node of a service opens the same database with the same key (here
// from $DEVICEFLOW_ENCRYPTION_KEY) and tenant. The first use makes the
// tables.
func Example() {
	ctx := context.Background()
	store, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"), pgstore.Options{
		Tenant: "acme",
		TTL:    90 * 24 * time.Hour, // forget tokens nobody refreshed for 90 days
	})
	if err != nil {
		log.Fatal(err) // no key: set DEVICEFLOW_ENCRYPTION_KEY (openssl rand -base64 32)
	}
	defer store.Close()

	c, err := deviceflow.New(deviceflow.Config{ClientID: "Iv1.0123456789abcdef", Store: store})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	auth, err := c.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(auth.TokenType)
}

// Migrations run by a deployment job, before the application's nodes
// (which then only check the version) start.
func ExampleStore_Migrate() {
	ctx := context.Background()
	store, err := pgstore.Open(ctx, os.Getenv("DATABASE_URL"), pgstore.Options{ManualSchema: true, Plain: true})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err) // pgstore.ErrSchemaTooNew: a newer release migrated the tables
	}
}
