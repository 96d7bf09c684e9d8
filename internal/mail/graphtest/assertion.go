package graphtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Client assertions (certificate credentials and workload identity
// federation), checked as Microsoft Entra ID checks them.

// FederatedAudience is the audience Entra ID requires of a federated
// workload identity token.
const FederatedAudience = "api://AzureADTokenExchange"

const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// federation is a federated identity credential of the application: an
// external issuer (a Kubernetes cluster's OIDC issuer) and the subject it
// vouches for, and the issuer's signing key.
type federation struct {
	issuer, subject string
	key             *rsa.PrivateKey
}

// NewCertificate makes a self-signed client certificate valid from
// notBefore to notAfter, and returns it as a PEM file with its private
// key (PKCS #8), as `openssl req -x509 -newkey rsa:2048` makes one.
func NewCertificate(subject string, notBefore, notAfter time.Time) (pemFile []byte, cert *x509.Certificate) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: subject},
		NotBefore:    notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, _ = x509.ParseCertificate(der)
	pk, _ := x509.MarshalPKCS8PrivateKey(key)
	pemFile = append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})...)
	return pemFile, cert
}

// AddCertificate uploads cert to the application (Certificates & secrets
// → Certificates): assertions signed with its key are accepted.
func (s *Server) AddCertificate(cert *x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := sha256.Sum256(cert.Raw)
	s.certs[base64.RawURLEncoding.EncodeToString(sum[:])] = cert
}

// AddFederatedCredential adds a federated identity credential for subject
// from issuer, and returns a function that issues that issuer's tokens
// for subject, valid for lifetime (what Kubernetes writes to
// AZURE_FEDERATED_TOKEN_FILE).
func (s *Server) AddFederatedCredential(issuer, subject string) (issue func(lifetime time.Duration) string) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	s.federations = append(s.federations, federation{issuer, subject, key})
	s.mu.Unlock()
	return func(lifetime time.Duration) string {
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
		s.mu.Lock()
		now := s.now()
		s.mu.Unlock()
		tok, _ := jwt.Signed(signer).Claims(jwt.Claims{
			Issuer: issuer, Subject: subject, Audience: jwt.Audience{FederatedAudience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(lifetime)),
		}).Serialize()
		return tok
	}
}

// checkAssertion checks a client assertion for the application; status 0
// means accepted.
func (s *Server) checkAssertion(r *http.Request, tenant, clientID string) (status int, code string, aadsts int, text string) {
	f := r.PostForm
	if t := f.Get("client_assertion_type"); t != jwtBearer {
		return http.StatusBadRequest, "invalid_request", 50027, fmt.Sprintf("Invalid client_assertion_type '%s'; expected '%s'.", t, jwtBearer)
	}
	tok, err := jwt.ParseSigned(f.Get("client_assertion"), []jose.SignatureAlgorithm{jose.RS256, jose.PS256})
	if err != nil || len(tok.Headers) != 1 {
		return http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."
	}
	h := tok.Headers[0]
	s.mu.Lock()
	now, certs, feds := s.now(), s.certs, append([]federation(nil), s.federations...)
	tokenURL := s.URL + "/" + tenant + "/oauth2/v2.0/token"
	s.mu.Unlock()
	var c jwt.Claims
	if thumb, ok := h.ExtraHeaders["x5t#S256"].(string); ok {
		s.mu.Lock()
		cert := certs[thumb]
		s.mu.Unlock()
		if cert == nil {
			return http.StatusUnauthorized, "invalid_client", 700027, fmt.Sprintf("Client assertion failed signature validation. (Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.)", thumb, clientID)
		}
		if err := tok.Claims(cert.PublicKey, &c); err != nil {
			return http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation."
		}
		if !now.Before(cert.NotAfter) {
			return http.StatusUnauthorized, "invalid_client", 700027, fmt.Sprintf("Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '%s']", thumb)
		}
		if c.Issuer != clientID || c.Subject != clientID {
			return http.StatusBadRequest, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter."
		}
		if !c.Audience.Contains(tokenURL) {
			return http.StatusBadRequest, "invalid_client", 700027, fmt.Sprintf("Client assertion audience claim does not match the token endpoint '%s'.", tokenURL)
		}
	} else {
		var unverified jwt.Claims
		if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
			return http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."
		}
		var match *federation
		for i := range feds {
			if feds[i].issuer == unverified.Issuer && feds[i].subject == unverified.Subject {
				match = &feds[i]
			}
		}
		if match == nil || tok.Claims(&match.key.PublicKey, &c) != nil || !c.Audience.Contains(FederatedAudience) {
			return http.StatusBadRequest, "invalid_client", 70021, fmt.Sprintf("No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'.", unverified.Issuer, unverified.Subject, strings.Join(unverified.Audience, ","))
		}
	}
	if c.Expiry == nil || !now.Before(c.Expiry.Time()) || (c.NotBefore != nil && now.Add(5*time.Minute).Before(c.NotBefore.Time())) {
		return http.StatusBadRequest, "invalid_client", 700024, fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s.",
			now.UTC().Format("2006-01-02T15:04:05.0000000Z"), numericDate(c.NotBefore), numericDate(c.Expiry))
	}
	return 0, "", 0, ""
}

func numericDate(d *jwt.NumericDate) string {
	if d == nil {
		return "(none)"
	}
	return d.Time().UTC().Format("2006-01-02T15:04:05.0000000Z")
}
