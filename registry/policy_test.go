package registry

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func TestAddressPolicy(t *testing.T) {
	strict := addressPolicy{}
	open := addressPolicy{allowLoopback: true, allowPrivate: true}
	broad := addressPolicy{allowed: []netip.Prefix{mustPrefix("0.0.0.0/0"), mustPrefix("::/0")}}
	exact := addressPolicy{allowed: []netip.Prefix{mustPrefix("169.254.169.254/32")}}
	tests := []struct {
		policy addressPolicy
		addr   string
		want   string // "" means allowed
	}{
		{strict, "93.184.216.34", ""},
		{strict, "2606:2800:220:1::1", ""},
		{strict, "169.254.169.254", "link-local/metadata address"},
		{strict, "::ffff:169.254.169.254", "link-local/metadata address"},
		{strict, "64:ff9b::a9fe:a9fe", "link-local/metadata address"}, // NAT64 form of 169.254.169.254
		{strict, "fd00:ec2::254", "metadata address"},
		{strict, "100.100.100.200", "metadata address"},
		{strict, "169.254.1.1", "link-local address"},
		{strict, "fe80::1", "link-local address"},
		{strict, "0.0.0.0", "unspecified address"},
		{strict, "0.1.2.3", "unspecified address"},
		{strict, "::", "unspecified address"},
		{strict, "224.0.0.1", "multicast/broadcast address"},
		{strict, "ff02::1", "multicast/broadcast address"},
		{strict, "255.255.255.255", "multicast/broadcast address"},
		{strict, "127.0.0.1", "loopback address"},
		{strict, "::1", "loopback address"},
		{strict, "10.0.0.1", "private address"},
		{strict, "172.30.0.10", "private address"},
		{strict, "192.168.1.1", "private address"},
		{strict, "100.64.0.1", "private address"},
		{strict, "fd12::1", "private address"},
		{open, "127.0.0.1", ""},
		{open, "10.0.0.1", ""},
		{open, "fd12::1", ""},
		{open, "169.254.169.254", "link-local/metadata address"},
		{open, "fd00:ec2::254", "metadata address"},
		{open, "169.254.1.1", "link-local address"},
		{broad, "169.254.1.1", ""},
		{broad, "10.0.0.1", ""},
		{broad, "169.254.169.254", "link-local/metadata address"}, // only an exact entry opens a metadata address
		{broad, "0.0.0.0", "unspecified address"},
		{broad, "224.0.0.1", "multicast/broadcast address"},
		{exact, "169.254.169.254", ""},
	}
	for _, tt := range tests {
		if got := tt.policy.refusal(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("%+v refusal(%s) = %q, want %q", tt.policy, tt.addr, got, tt.want)
		}
	}
}

func TestNewProberValidatesOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"budget too small", Options{Budget: time.Millisecond}, "budget 1ms is out of range"},
		{"budget negative", Options{Budget: -time.Second}, "budget -1s is out of range"},
		{"negative success TTL", Options{SuccessTTL: -1}, "successTTL"},
		{"negative failure TTL", Options{FailureTTL: -1}, "failureTTL"},
		{"negative cache size", Options{CacheSize: -1}, "cacheSize -1"},
		{"insecure host with scheme", Options{InsecureHosts: []string{"http://registry:5000"}}, `insecureHosts[0] "http://registry:5000": must be a bare host`},
		{"empty insecure host", Options{InsecureHosts: []string{""}}, "insecureHosts[0]"},
		{"invalid CIDR", Options{AllowedCIDRs: []netip.Prefix{{}}}, "allowedCIDRs[0] is not a valid prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewProber(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	p, err := NewProber(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Budget() != DefaultBudget || p.opts.SuccessTTL != DefaultSuccessTTL || p.opts.FailureTTL != DefaultFailureTTL || p.opts.CacheSize != DefaultCacheSize {
		t.Errorf("defaults not applied: %+v", p.opts)
	}
}

func TestInsecureHostMatching(t *testing.T) {
	o := Options{InsecureHosts: []string{"registry.local", "other.local:5000", "[::1]"}}
	for host, want := range map[string]bool{
		"registry.local":      true,
		"registry.local:5000": true,
		"other.local:5000":    true,
		"other.local:5001":    false,
		"other.local":         false,
		"[::1]:5000":          true,
		"example.com":         false,
	} {
		if got := o.insecure(host); got != want {
			t.Errorf("insecure(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestTokenGrant(t *testing.T) {
	jwt := func(access any) string { return fakeJWT(map[string]any{"access": access}) }
	entry := func(name string, actions ...string) map[string]any {
		return map[string]any{"type": "repository", "name": name, "actions": actions}
	}
	tests := []struct {
		name, token string
		want        grant
	}{
		{"push and pull", jwt([]any{entry("ocl/img", "pull", "push")}), grantPush},
		{"wildcard", jwt([]any{entry("ocl/img", "*")}), grantPush},
		{"pull only", jwt([]any{entry("ocl/img", "pull")}), grantPull},
		{"other repository", jwt([]any{entry("ocl/other", "push")}), grantNone},
		{"empty access", jwt([]any{}), grantNone},
		{"registry catalog only", jwt([]any{map[string]any{"type": "registry", "name": "catalog", "actions": []string{"*"}}}), grantNone},
		{"no access claim", fakeJWT(map[string]any{"sub": "x"}), grantOpaque},
		{"not a JWT", "c2VjcmV0", grantOpaque},
		{"bad base64", "a.!!!.c", grantOpaque},
		{"padded payload", strings.Replace(jwt([]any{entry("ocl/img", "push")}), ".c2ln", "=.c2ln", 1), grantPush},
	}
	for _, tt := range tests {
		if got := tokenGrant(tt.token, "ocl/img"); got != tt.want {
			t.Errorf("%s: grant %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDialerControlRechecksTheSocketAddress(t *testing.T) {
	d := newSafeDialer(addressPolicy{allowLoopback: true}, nil)
	if err := d.control("tcp4", "169.254.169.254:443", nil); err == nil || !strings.Contains(err.Error(), "link-local/metadata") {
		t.Errorf("control allowed the metadata address: %v", err)
	}
	if err := d.control("tcp4", "127.0.0.1:443", nil); err != nil {
		t.Errorf("control refused an allowed address: %v", err)
	}
}
