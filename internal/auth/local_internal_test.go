package auth

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// An unknown email is checked against dummyHash: it must cost what a real
// password check costs (HashPassword's cost), or the answer's speed tells
// which emails have accounts.
func TestUnknownEmailCostsAsMuchAsAPasswordCheck(t *testing.T) {
	cost, err := bcrypt.Cost([]byte(dummyHash))
	if err != nil {
		t.Fatalf("dummyHash is not a bcrypt hash: %v", err)
	}
	h, err := HashPassword("a-real-password-1")
	if err != nil {
		t.Fatal(err)
	}
	want, err := bcrypt.Cost([]byte(h))
	if err != nil {
		t.Fatal(err)
	}
	if cost != want {
		t.Errorf("dummyHash cost %d, want the cost of a real hash, %d", cost, want)
	}
}
