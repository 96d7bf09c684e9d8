package mail_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/mail"
)

func TestMessageValidate(t *testing.T) {
	ok := mail.Message{To: []mail.Address{{Email: "a@contoso.com"}}, Headers: map[string]string{"x-lower": "1"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid message: %v", err)
	}
	tests := []struct {
		name string
		msg  mail.Message
		want string
	}{
		{"empty", mail.Message{}, "no recipients"},
		{"cc only is fine but bad address", mail.Message{Cc: []mail.Address{{Email: " a@contoso.com"}}}, "not a valid email address"},
		{"header X- only", mail.Message{To: ok.To, Headers: map[string]string{"X-": "v"}}, `must start with "X-"`},
		{"header with colon", mail.Message{To: ok.To, Headers: map[string]string{"X-A:B": "v"}}, "space, colon or line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.msg.Validate()
			e, isMailErr := mail.AsError(err)
			if !isMailErr || e.Code != "InvalidMessage" || mail.IsRetryable(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want permanent InvalidMessage containing %q", err, tt.want)
			}
		})
	}
}

func TestIsRetryable(t *testing.T) {
	if !mail.IsRetryable(errors.New("unclassified")) || mail.IsRetryable(nil) {
		t.Error("unclassified errors must be retryable, nil must not")
	}
	wrapped := errors.Join(errors.New("ctx"), &mail.Error{Retryable: false})
	if mail.IsRetryable(wrapped) {
		t.Error("a wrapped permanent *Error must not be retryable")
	}
}
