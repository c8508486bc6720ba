package yibeidiaotest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"time"
)

// The fake serves http and https on one port, as a vendor host that has
// both would on 80 and 443: the same host, either scheme. A connection
// whose first byte starts a TLS handshake is served over TLS.

// bothListener hands out plain connections, and TLS ones for clients that
// open with a handshake. Each connection's first byte is awaited in its own
// goroutine, so a slow client holds up no other.
type bothListener struct {
	net.Listener
	tls   *tls.Config
	conns chan net.Conn
	err   chan error
}

func newBothListener(ln net.Listener, cfg *tls.Config) *bothListener {
	l := &bothListener{Listener: ln, tls: cfg, conns: make(chan net.Conn), err: make(chan error, 1)}
	go l.acceptLoop()
	return l
}

func (l *bothListener) acceptLoop() {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			l.err <- err
			return
		}
		go func() {
			peeked := &peekedConn{Conn: conn, r: bufio.NewReader(conn)}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			first, err := peeked.r.Peek(1)
			_ = conn.SetReadDeadline(time.Time{})
			var c net.Conn = peeked
			switch {
			case err != nil:
				_ = conn.Close()
				return
			case first[0] == 0x16: // TLS record type: handshake
				c = tls.Server(peeked, l.tls)
			}
			select {
			case l.conns <- c:
			case err := <-l.err:
				l.err <- err // closed: leave the error for Accept
				_ = conn.Close()
			}
		}()
	}
}

func (l *bothListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.err:
		l.err <- err
		return nil, err
	}
}

// peekedConn is a connection whose first bytes were read ahead.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// selfSigned makes a certificate for 127.0.0.1, ::1 and localhost, and a
// pool that trusts it.
func selfSigned() (*tls.Config, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"yibeidiaotest"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}, pool
}
