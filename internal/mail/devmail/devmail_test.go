package devmail_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/devmail"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

func TestMailboxStoresWhatWouldBeSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
		mb := devmail.New(db, "", func() time.Time { return at })
		if mb.Name() != "dev" {
			t.Errorf("Name = %q", mb.Name())
		}
		first := mail.Message{
			To:       []mail.Address{{Name: "Zoë Ångström, PE", Email: "zoe@contoso.com"}, {Email: "ops@contoso.com"}},
			Cc:       []mail.Address{{Name: "Lee", Email: "lee@contoso.com"}},
			Subject:  "MOC-0042 awaits your approval",
			HTMLBody: "<p>Review <b>MOC-0042</b></p>",
			Headers:  map[string]string{"X-MOCPCR-Change": "MOC-0042"},
		}
		second := mail.Message{To: []mail.Address{{Email: "dana@contoso.com"}}, Subject: "second", HTMLBody: "<p>2</p>"}
		res, err := mb.Send(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mb.Send(ctx, second); err != nil {
			t.Fatal(err)
		}

		got, err := mb.List(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Subject != "second" {
			t.Fatalf("List = %+v, want 2 messages, newest first", got)
		}
		one := got[1]
		if res.RequestID != "dev-"+strconv.FormatInt(one.ID, 10) {
			t.Errorf("RequestID %q for row %d", res.RequestID, one.ID)
		}
		if one.Sender != devmail.DefaultSender || one.Subject != first.Subject || one.HTMLBody != first.HTMLBody ||
			!reflect.DeepEqual(one.To, first.To) || !reflect.DeepEqual(one.Cc, first.Cc) ||
			!reflect.DeepEqual(one.Headers, first.Headers) || !one.CreatedAt.Equal(at) {
			t.Errorf("stored %+v\nsent   %+v", one, first)
		}
		if got[0].Cc != nil || len(got[0].Headers) != 0 {
			t.Errorf("message without Cc or headers read back as %+v", got[0])
		}

		byID, err := mb.Get(ctx, one.ID)
		if err != nil || !reflect.DeepEqual(byID, one) {
			t.Errorf("Get = %+v, %v", byID, err)
		}
		if _, err := mb.Get(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(missing) = %v, want store.ErrNotFound", err)
		}

		_, err = mb.Send(ctx, mail.Message{Subject: "nobody"})
		if e, ok := mail.AsError(err); !ok || e.Retryable || e.Code != "InvalidMessage" {
			t.Errorf("invalid message: %v, want the permanent validation error", err)
		}
		if all, _ := mb.List(ctx, 10); len(all) != 2 {
			t.Errorf("an invalid message was stored")
		}
	})
}
