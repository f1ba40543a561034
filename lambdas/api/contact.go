package api

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/passwordless-go/cognito/lambdas/contact"
)

// Route keys of the contact-change routes (package contact).
const (
	RouteStartContactChange  = "POST /me/contact"
	RouteVerifyContactChange = "POST /me/contact/verify"
)

// ContactChanger answers the contact-change routes; *contact.Service implements it.
type ContactChanger interface {
	Start(ctx context.Context, c contact.Caller, body []byte) contact.Reply
	Verify(ctx context.Context, c contact.Caller, body []byte) contact.Reply
}

var _ ContactChanger = (*contact.Service)(nil)

// WithContact adds the routes that add or change the caller's email address or phone number,
// answered by s (see package contact), to h and returns h:
//
//	POST /me/contact         {"email": ...} or {"phoneNumber": ...} -> 202 {"changeId", "deliveryMedium", "destination", "expiresAt"}
//	POST /me/contact/verify  {"changeId", "code"}                  -> 200 {"email" | "phoneNumber", "verified": true}
//
// Both are POST routes, so Handle checks the access token with Cognito first and hands the
// attributes GetUser returned to s. Bodies are capped at contact.MaxBody bytes (after undoing
// API Gateway's base64).
func (h *Handler) WithContact(s ContactChanger) *Handler {
	if h.Routes == nil {
		h.Routes = map[string]Route{}
	}
	h.Routes[RouteStartContactChange] = contactRoute(s.Start)
	h.Routes[RouteVerifyContactChange] = contactRoute(s.Verify)
	return h
}

func contactRoute(f func(context.Context, contact.Caller, []byte) contact.Reply) Route {
	return func(ctx context.Context, c Caller, req events.APIGatewayV2HTTPRequest) Response {
		body, rerr := readBody(req.Body, req.IsBase64Encoded, contact.MaxBody)
		if rerr != nil {
			return rerr.response()
		}
		r := f(ctx, contact.Caller{Sub: c.Sub, Username: c.Username, AuthTime: c.AuthTime, Attributes: c.Attributes}, body)
		return Response{Status: r.Status, Body: r.Body}
	}
}
