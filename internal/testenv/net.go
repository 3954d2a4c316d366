package testenv

import (
	"net"
	"testing"
)

// FreeAddr returns a 127.0.0.1:port address that nothing listens on as it
// returns: for a server the test starts, or for a connection to be refused.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
