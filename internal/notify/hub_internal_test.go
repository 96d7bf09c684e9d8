package notify

import "testing"

func TestPayloadUserIsPerSchema(t *testing.T) {
	for _, c := range []struct {
		payload string
		uid     int64
		ok      bool
	}{
		{"public:42", 42, true},
		{"t_other:42", 0, false}, // another installation in the same database
		{"42", 42, true},         // a replica from before the schema prefix
		{"public:x", 0, false},
		{"", 0, false},
	} {
		uid, ok := payloadUser(c.payload, "public")
		if uid != c.uid || ok != c.ok {
			t.Errorf("payloadUser(%q) = %d, %v; want %d, %v", c.payload, uid, ok, c.uid, c.ok)
		}
	}
}
