package graph

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ClientAssertionType is the client_assertion_type of a signed JWT that
// stands in for a client secret (RFC 7523).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is how long a client assertion made from the
// certificate is valid: Entra ID only needs it for the one token request.
const assertionLifetime = 10 * time.Minute

// Certificate is a client certificate and its private key, read from a PEM
// file (AZURE_CLIENT_CERTIFICATE_PATH, the name Azure's own SDKs read).
type Certificate struct {
	Path string
	Cert *x509.Certificate
	key  crypto.Signer
	// thumbprint is the SHA-256 thumbprint of the certificate (DER),
	// base64url: the x5t#S256 header Entra ID finds the key by.
	thumbprint string
}

// String describes the certificate without its key.
func (c *Certificate) String() string {
	if c == nil {
		return "(no certificate)"
	}
	return fmt.Sprintf("certificate %q (subject %s, thumbprint %s, valid until %s)", c.Path, c.Cert.Subject, c.Thumbprint(), c.Cert.NotAfter.UTC().Format("2006-01-02"))
}

// GoString hides the key from %#v.
func (c *Certificate) GoString() string { return c.String() }

// Thumbprint is the certificate's SHA-1 thumbprint in upper-case hex, as
// the Azure Portal shows it under Certificates & secrets.
func (c *Certificate) Thumbprint() string {
	// SHA-1 only names the certificate as the portal does; nothing is
	// signed or trusted by it.
	sum := sha1.Sum(c.Cert.Raw)
	return strings.ToUpper(fmt.Sprintf("%x", sum))
}

// LoadCertificate reads a PEM file holding a certificate and its RSA
// private key (PKCS #1 or PKCS #8), in either order, and checks that they
// belong together. Messages name AZURE_CLIENT_CERTIFICATE_PATH and say what
// is wrong; none shows the key.
func LoadCertificate(path string) (*Certificate, error) {
	const env = "AZURE_CLIENT_CERTIFICATE_PATH"
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read %q: %w", env, path, errors.Unwrap(err))
	}
	c := &Certificate{Path: path}
	for rest := raw; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			if c.Cert != nil {
				continue // a chain: the first certificate is the client's
			}
			if c.Cert, err = x509.ParseCertificate(b.Bytes); err != nil {
				return nil, fmt.Errorf("%s: %q holds a certificate that cannot be parsed: %v", env, path, err)
			}
		case "PRIVATE KEY", "RSA PRIVATE KEY":
			if c.key, err = parseKey(b); err != nil {
				return nil, fmt.Errorf("%s: %q: %w", env, path, err)
			}
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%s: the private key in %q is encrypted with a password; export it without one (openssl pkcs12 -in cert.pfx -nodes -out cert.pem) and protect the file instead", env, path)
		}
	}
	switch {
	case c.Cert == nil && c.key == nil:
		return nil, fmt.Errorf("%s: %q is not a PEM file with a certificate and its private key (-----BEGIN CERTIFICATE----- and -----BEGIN PRIVATE KEY-----); a .pfx must be converted: openssl pkcs12 -in cert.pfx -nodes -out cert.pem", env, path)
	case c.Cert == nil:
		return nil, fmt.Errorf("%s: %q holds a private key but no certificate (-----BEGIN CERTIFICATE-----); put both in the file", env, path)
	case c.key == nil:
		return nil, fmt.Errorf("%s: %q holds a certificate but no private key; put the key (-----BEGIN PRIVATE KEY-----) in the same file", env, path)
	}
	pub, ok := c.Cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: the certificate in %q has a %T key; Microsoft Entra ID client certificates are RSA", env, path, c.Cert.PublicKey)
	}
	if !pub.Equal(c.key.Public()) {
		return nil, fmt.Errorf("%s: the private key in %q does not belong to its certificate (thumbprint %s): put the certificate's own key in the file", env, path, c.Thumbprint())
	}
	sum := sha256.Sum256(c.Cert.Raw)
	c.thumbprint = base64.RawURLEncoding.EncodeToString(sum[:])
	return c, nil
}

func parseKey(b *pem.Block) (crypto.Signer, error) {
	if b.Type == "RSA PRIVATE KEY" {
		k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("the RSA private key cannot be parsed: %v", err)
		}
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the private key cannot be parsed: %v", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the private key is %T; Microsoft Entra ID client certificates are RSA", k)
	}
	return rk, nil
}

// Validity says whether the certificate can be used at now: "" when it
// can, or why not, naming the dates.
func (c *Certificate) Validity(now time.Time) string {
	switch {
	case now.Before(c.Cert.NotBefore):
		return fmt.Sprintf("the certificate in %s is not valid before %s", c.Path, c.Cert.NotBefore.UTC().Format(time.RFC3339))
	case !now.Before(c.Cert.NotAfter):
		return fmt.Sprintf("the certificate in %s expired on %s: create a new one, upload it to the app registration (Certificates & secrets → Certificates) and replace the file", c.Path, c.Cert.NotAfter.UTC().Format("2006-01-02"))
	}
	return ""
}

// ExpiresOn is the day the certificate stops working.
func (c *Certificate) ExpiresOn() time.Time { return c.Cert.NotAfter.UTC() }

// Assertion is a client assertion for tokenURL, signed with the
// certificate's key (PS256, as Microsoft recommends for new code), that
// Entra ID accepts instead of a client secret: issuer and subject are the
// application, the audience the token endpoint (RFC 7523; Microsoft
// identity platform "certificate credentials").
func (c *Certificate) Assertion(clientID, tokenURL string, now time.Time) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS256, Key: c.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("x5t#S256", c.thumbprint))
	if err != nil {
		return "", fmt.Errorf("client assertion: %w", err)
	}
	claims := jwt.Claims{
		Issuer:    clientID,
		Subject:   clientID,
		Audience:  jwt.Audience{tokenURL},
		ID:        newUUID(),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(now.Add(assertionLifetime)),
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("client assertion: %w", err)
	}
	return s, nil
}

// AssertionSource is the client assertion the application signs in to
// Entra ID with other than for email (user sign-in's code redemption),
// from the same credential email uses: the certificate
// (ClientCertificatePath), else the federated token (FederatedTokenFile),
// read afresh each time. nil when cfg has neither: the client secret is
// used. now is the clock for the certificate's assertion.
func AssertionSource(cfg Config, now func() time.Time) (func(tokenURL string) (string, error), error) {
	switch {
	case cfg.ClientCertificatePath != "":
		cert, err := LoadCertificate(cfg.ClientCertificatePath)
		if err != nil {
			return nil, err
		}
		return func(tokenURL string) (string, error) {
			if why := cert.Validity(now()); why != "" {
				return "", errors.New(why)
			}
			return cert.Assertion(cfg.ClientID, tokenURL, now())
		}, nil
	case cfg.FederatedTokenFile != "":
		return func(string) (string, error) { return federatedAssertion(cfg.FederatedTokenFile) }, nil
	}
	return nil, nil
}

// federatedAssertion reads the workload identity token from path
// (AZURE_FEDERATED_TOKEN_FILE, which Kubernetes' Azure workload identity
// writes and rotates): it is read for every token request, so a rotated
// file is used at once.
func federatedAssertion(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("AZURE_FEDERATED_TOKEN_FILE: cannot read %q: %w", path, errors.Unwrap(err))
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("AZURE_FEDERATED_TOKEN_FILE: %q is empty", path)
	}
	return tok, nil
}
