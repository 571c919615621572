package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
)

func TestHint(t *testing.T) {
	dns := fmt.Errorf("deb: noble: GET http://mirror.invalid/x: %w", &net.DNSError{Name: "mirror.invalid", Err: "no such host", IsNotFound: true})
	dial := fmt.Errorf("get: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")})
	for _, tc := range []struct {
		err  error
		want string
	}{
		{dns, "mirror.invalid cannot be resolved"},
		{dial, "the connection failed"},
		{errors.New("unsatisfiable"), ""},
	} {
		got := hint(tc.err)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("hint(%v) = %q, want %q", tc.err, got, tc.want)
		}
		if tc.want != "" && !strings.Contains(got, "--mirror") {
			t.Errorf("hint(%v) = %q does not name --mirror", tc.err, got)
		}
	}
}
