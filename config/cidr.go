package config

import "net/netip"

func parsePrefix(s string) (netip.Prefix, error) { return netip.ParsePrefix(s) }

// AllowedPrefixes returns the parsed registry.allowedCIDRs; Load has already rejected bad entries.
func (r RegistrySettings) AllowedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, c := range r.AllowedCIDRs {
		if p, err := parsePrefix(c); err == nil {
			out = append(out, p)
		}
	}
	return out
}
