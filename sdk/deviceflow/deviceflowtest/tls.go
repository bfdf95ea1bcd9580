package deviceflowtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"time"
)

// certificateHosts are always in the generated certificate, so a client
// that sends github.com's own host names to the emulator (see Client)
// verifies it.
var certificateHosts = []string{"127.0.0.1", "::1", "localhost", "github.com", "api.github.com"}

// generateCertificate makes the self-signed certificate for Config.TLS. It
// uses the real clock, not Config.Now, because clients check it against
// theirs.
func (s *Server) generateCertificate() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("emulator: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return fmt.Errorf("emulator: serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "deviceflow emulator", Organization: []string{"deviceflow emulator"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range append(append([]string(nil), certificateHosts...), s.cfg.TLSHosts...) {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("emulator: create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("emulator: parse certificate: %w", err)
	}
	s.cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	s.leaf = leaf
	s.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return nil
}

// Certificate returns the emulator's self-signed certificate, or nil
// without Config.TLS.
func (s *Server) Certificate() *x509.Certificate { return s.leaf }

// CertPEM returns the certificate PEM-encoded, for clients in other
// languages (NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE, SSL_CERT_FILE), or nil
// without Config.TLS.
func (s *Server) CertPEM() []byte { return append([]byte(nil), s.certPEM...) }

// CertPool returns a pool holding only the emulator's certificate, or nil
// without Config.TLS.
func (s *Server) CertPool() *x509.CertPool {
	if s.leaf == nil {
		return nil
	}
	p := x509.NewCertPool()
	p.AddCert(s.leaf)
	return p
}

// Client returns an HTTP client that trusts the emulator's certificate and
// sends every request, whatever its URL's host, to the emulator. A client
// can so use github.com's real URLs (https://github.com/login/device/code,
// https://api.github.com/user) and reach the emulator; the Host header
// still decides between the github.com and api.github.com endpoints. Call
// it after Start.
func (s *Server) Client() *http.Client {
	addr := s.Addr()
	tr := &http.Transport{
		ForceAttemptHTTP2: true,
		MaxIdleConns:      10,
		IdleConnTimeout:   30 * time.Second,
	}
	if addr != "" {
		d := &net.Dialer{Timeout: 5 * time.Second}
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}
	}
	if pool := s.CertPool(); pool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}
}
