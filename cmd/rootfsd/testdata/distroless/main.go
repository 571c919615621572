// Command distroless prints what a static program finds in the image
// examples/debian-static.yaml describes: its user, the CA bundle, time
// zones, /etc/services and /etc/nsswitch.conf. TestMirrorExampleDistroless
// runs it there.
package main

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	fail := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		os.Exit(1)
	}
	bundle, err := os.ReadFile(os.Getenv("SSL_CERT_FILE"))
	if err != nil {
		fail("certificates", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(bundle) {
		fail("certificates", fmt.Errorf("no certificate in %s", os.Getenv("SSL_CERT_FILE")))
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		fail("time zone", err)
	}
	port, err := net.LookupPort("tcp", "https")
	if err != nil {
		fail("services", err)
	}
	nss, err := os.ReadFile("/etc/nsswitch.conf")
	if err != nil {
		fail("nsswitch.conf", err)
	}
	wd, _ := os.Getwd()
	fmt.Printf("uid=%d gid=%d wd=%s certs=%d zone=%s https=%d nsswitch=%d\n",
		os.Getuid(), os.Getgid(), wd, strings.Count(string(bundle), "BEGIN CERTIFICATE"), loc, port, len(nss))
}
