package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/deviceflow/deviceflow/host"
	redisstore "github.com/deviceflow/deviceflow/host/store/redis"
	"github.com/deviceflow/deviceflow/sdk/deviceflow"
)

// Every node of a service opens the same Redis with the same key (here
// from $DEVICEFLOW_ENCRYPTION_KEY) and tenant: a token one node signs in
// for is the token every node uses, and it is refreshed once, whichever
// nodes ask.
func Example() {
	store, err := redisstore.Open("redis://127.0.0.1:6379/0", redisstore.Options{
		Tenant: "acme",              // one tenant's tokens apart from another's
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
	auth, err := c.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(auth.TokenType)
}

// A key from a key-management service, asked once, on first use.
func ExampleOptions_keyFunc() {
	store, err := redisstore.Open("redis://127.0.0.1:6379/0", redisstore.Options{
		KeyFunc: func(ctx context.Context) (host.EncryptionKey, error) {
			secret, err := fetchFromKMS(ctx, "deviceflow-store-key") // your KMS client
			if err != nil {
				return host.EncryptionKey{}, err
			}
			return host.ParseEncryptionKey(secret)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
}

func fetchFromKMS(context.Context, string) (string, error) { return host.GenerateKey(), nil }
