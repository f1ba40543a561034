package idp

import (
	"net/http"
	"strconv"
	"strings"
)

// What the Cognito Identity Provider endpoint (https://cognito-idp.<region>.amazonaws.com/)
// answers browsers, as recorded from the real endpoint (doc.go, "CORS").
const (
	// CORSAllowOrigin is Access-Control-Allow-Origin: any origin (the API needs no cookies).
	CORSAllowOrigin = "*"
	// CORSAllowMethods is the preflight's Access-Control-Allow-Methods.
	CORSAllowMethods = "POST"
	// CORSExposeHeaders is Access-Control-Expose-Headers: the AWS response headers a page's
	// script may read (the error type and message among them).
	CORSExposeHeaders = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"
	// CORSMaxAge is the preflight's Access-Control-Max-Age in seconds (two days).
	CORSMaxAge = 172800
)

// servePreflight answers an OPTIONS request (a browser's CORS preflight) as the real endpoint
// does: 200 with no body, any origin, POST, the requested headers echoed back, the AWS response
// headers exposed and a two-day cache. No operation runs.
func servePreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("x-amzn-RequestId", newUUID())
	h.Set("Access-Control-Allow-Origin", CORSAllowOrigin)
	if req := r.Header.Values("Access-Control-Request-Headers"); len(req) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(req, ","))
	}
	h.Set("Access-Control-Allow-Methods", CORSAllowMethods)
	h.Set("Access-Control-Expose-Headers", CORSExposeHeaders)
	h.Set("Access-Control-Max-Age", strconv.Itoa(CORSMaxAge))
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// allowCORS adds the headers every answer of the JSON API carries, so a page's script can read
// successes and errors alike.
func allowCORS(w http.ResponseWriter) {
	w.Header().Set("Access-Control-Allow-Origin", CORSAllowOrigin)
	w.Header().Set("Access-Control-Expose-Headers", CORSExposeHeaders)
}
