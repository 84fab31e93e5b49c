package registrytest

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// writeHtpasswd writes bcrypt entries, the only kind distribution 2.8 accepts (an apr1/MD5 entry gets 401). The
// minimum cost keeps each authenticated request fast; the cost does not change what the tests prove.
func writeHtpasswd(path string, users []User) error {
	var b strings.Builder
	for _, u := range users {
		if u.Name == "" || strings.Contains(u.Name, ":") {
			return fmt.Errorf("user name %q: must be non-empty and without ':'", u.Name)
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.MinCost)
		if err != nil {
			return fmt.Errorf("hashing the password of %q: %w", u.Name, err)
		}
		fmt.Fprintf(&b, "%s:%s\n", u.Name, hash)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
