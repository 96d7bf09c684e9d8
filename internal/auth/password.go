package auth

import (
	"errors"
	"unicode/utf8"

	"github.com/mocpcr/mocpcr/internal/problem"
	"golang.org/x/crypto/bcrypt"
)

// MinPasswordLength follows NIST SP 800-63B for memorised secrets.
const MinPasswordLength = 10

// HashPassword checks a new password's length and returns its bcrypt hash.
func HashPassword(pw string) (string, error) {
	if n := utf8.RuneCountInString(pw); n < MinPasswordLength {
		return "", problem.Invalidf("password", "must be at least %d characters", MinPasswordLength)
	}
	if len(pw) > 72 {
		// bcrypt ignores everything after 72 bytes; refuse rather than
		// silently accept a password that is weaker than it looks.
		return "", problem.Invalidf("password", "must be at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// CheckPassword reports whether pw matches the stored hash.
func CheckPassword(hash, pw string) bool {
	if hash == "" {
		return false
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw))
	return err == nil && !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword)
}
