package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// AddressRefusedError is returned, before any connection is made, when a host is or resolves to an address the
// policy refuses.
type AddressRefusedError struct {
	Host   string     // the host as requested (a name or an IP literal)
	Addr   netip.Addr // the refused address
	Reason string     // e.g. "link-local/metadata address"
}

func (e *AddressRefusedError) Error() string {
	if e.Host == e.Addr.String() || e.Host == "" {
		return fmt.Sprintf("refused to connect to %s (%s); allow it in settings if intended", e.Addr, e.Reason)
	}
	return fmt.Sprintf("refused to connect to %s (%s: %s); allow it in settings if intended", e.Host, e.Addr, e.Reason)
}

var (
	// Cloud instance metadata services: AWS/GCP/Azure/OpenStack, AWS over IPv6, Alibaba.
	metadataAddrs = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"),
		netip.MustParseAddr("fd00:ec2::254"),
		netip.MustParseAddr("100.100.100.200"),
	}
	thisNetwork  = netip.MustParsePrefix("0.0.0.0/8")
	sharedSpace  = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598, carrier-grade NAT and some cluster networks
	broadcast    = netip.MustParseAddr("255.255.255.255")
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96") // the IPv4 address embedded here is the one reached
	errNoAddress = errors.New("no such host")
)

// addressPolicy decides which addresses the prober may connect to.
type addressPolicy struct {
	allowLoopback bool
	allowPrivate  bool
	allowed       []netip.Prefix
}

// refusal returns why a is refused, or "" when it may be dialed.
func (p addressPolicy) refusal(a netip.Addr) string {
	a = a.WithZone("").Unmap()
	if nat64Prefix.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	switch {
	case !a.IsValid():
		return "invalid address"
	case a.IsUnspecified() || thisNetwork.Contains(a):
		return "unspecified address"
	case a.IsMulticast() || a == broadcast:
		return "multicast/broadcast address"
	case isMetadata(a):
		if p.allowsExactly(a) {
			return ""
		}
		if a.IsLinkLocalUnicast() {
			return "link-local/metadata address"
		}
		return "metadata address"
	case p.allows(a):
		return ""
	case a.IsLinkLocalUnicast():
		return "link-local address"
	case a.IsLoopback() && !p.allowLoopback:
		return "loopback address"
	case (a.IsPrivate() || sharedSpace.Contains(a)) && !p.allowPrivate:
		return "private address"
	}
	return ""
}

func isMetadata(a netip.Addr) bool {
	for _, m := range metadataAddrs {
		if a == m {
			return true
		}
	}
	return false
}

func (p addressPolicy) allows(a netip.Addr) bool {
	for _, prefix := range p.allowed {
		if prefix.Contains(a) {
			return true
		}
	}
	return false
}

// allowsExactly is stricter than allows: a broad entry such as 0.0.0.0/0 must not open the metadata service.
func (p addressPolicy) allowsExactly(a netip.Addr) bool {
	for _, prefix := range p.allowed {
		if prefix.IsSingleIP() && prefix.Addr().Unmap() == a {
			return true
		}
	}
	return false
}

// safeDialer resolves a host itself, checks every address against the policy, and dials only checked addresses,
// by IP, so what is checked is what is connected to (no DNS rebinding between check and dial).
type safeDialer struct {
	policy   addressPolicy
	resolver Resolver
	// dial connects to an already-checked "ip:port"; tests replace it to count connection attempts.
	dial func(ctx context.Context, network, address string) (net.Conn, error)
}

func newSafeDialer(policy addressPolicy, resolver Resolver) *safeDialer {
	d := &safeDialer{policy: policy, resolver: resolver}
	nd := &net.Dialer{Control: d.control}
	d.dial = nd.DialContext
	return d
}

// DialContext is the http.Transport dial hook.
func (d *safeDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	addrs, err := d.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	var refused, lastErr error
	for _, a := range addrs {
		if reason := d.policy.refusal(a); reason != "" {
			if refused == nil {
				refused = &AddressRefusedError{Host: host, Addr: a.WithZone("").Unmap(), Reason: reason}
			}
			continue
		}
		conn, err := d.dial(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return conn, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, refused
}

func (d *safeDialer) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := d.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: errNoAddress.Error(), Name: host, IsNotFound: true}
	}
	return addrs, nil
}

// control re-checks the socket address right before connect: a second line of defence should a future change
// dial something other than a checked address.
func (d *safeDialer) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refusing to dial unparsable address %q", address)
	}
	if reason := d.policy.refusal(ap.Addr()); reason != "" {
		return &AddressRefusedError{Addr: ap.Addr().WithZone("").Unmap(), Reason: reason}
	}
	return nil
}
