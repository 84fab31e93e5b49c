package registrytest

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"
)

// Values the registry's auth.token section and the token service must agree on.
const (
	tokenService = "ocl-guard-test-registry"
	tokenIssuer  = "ocl-guard-test-token-issuer"
	tokenTTL     = 5 * time.Minute
)

// tokenServer implements the Docker registry token protocol for a fixed set of users: GET /token with Basic auth
// and scope=repository:<name>:<actions> returns a JWT granting the requested actions the user is allowed.
type tokenServer struct {
	srv    *httptest.Server
	signer *keyPair
	users  []User
}

func startTokenServer(serving tls.Certificate, signer *keyPair, users []User) *tokenServer {
	ts := &tokenServer{signer: signer, users: users}
	ts.srv = httptest.NewUnstartedServer(http.HandlerFunc(ts.serveToken))
	ts.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // probes that give up mid-handshake are expected
	ts.srv.TLS = &tls.Config{Certificates: []tls.Certificate{serving}, MinVersion: tls.VersionTLS12}
	ts.srv.StartTLS()
	return ts
}

// realm is the token URL the registry sends in its challenge. It names localhost rather than 127.0.0.1 because
// go-containerregistry refuses a realm that is a loopback or private IP literal on another port than the registry.
func (ts *tokenServer) realm() string {
	return strings.Replace(ts.srv.URL, "127.0.0.1", "localhost", 1) + "/token"
}

func (ts *tokenServer) close() { ts.srv.Close() }

func (ts *tokenServer) serveToken(w http.ResponseWriter, r *http.Request) {
	user, ok := ts.authenticate(r)
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		return
	}
	if svc := r.URL.Query().Get("service"); svc != "" && svc != tokenService {
		http.Error(w, `{"errors":[{"code":"DENIED","message":"unknown service"}]}`, http.StatusBadRequest)
		return
	}
	access := []map[string]any{}
	for _, scope := range r.URL.Query()["scope"] {
		for _, s := range strings.Fields(scope) {
			if a := grantFor(user, s); a != nil {
				access = append(access, a)
			}
		}
	}
	now := time.Now()
	token, err := ts.sign(map[string]any{
		"iss":    tokenIssuer,
		"sub":    user.Name,
		"aud":    tokenService,
		"exp":    now.Add(tokenTTL).Unix(),
		"nbf":    now.Add(-time.Minute).Unix(),
		"iat":    now.Unix(),
		"jti":    fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(now.UnixNano(), user.Name)))),
		"access": access,
	})
	if err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token": token, "access_token": token, "expires_in": int(tokenTTL.Seconds()), "issued_at": now.UTC().Format(time.RFC3339),
	})
}

func (ts *tokenServer) authenticate(r *http.Request) (User, bool) {
	name, pass, ok := r.BasicAuth()
	if !ok {
		return User{}, false
	}
	for _, u := range ts.users {
		if u.Name == name && u.Password == pass {
			return u, true
		}
	}
	return User{}, false
}

// grantFor returns the access entry for one requested scope: the requested actions the user may have.
func grantFor(u User, scope string) map[string]any {
	parts := strings.Split(scope, ":")
	if len(parts) < 3 || parts[0] != "repository" {
		return nil
	}
	repoName := strings.Join(parts[1:len(parts)-1], ":") // a repository name never has a colon, but be exact
	allowed := []string{"pull"}
	if u.Push {
		allowed = append(allowed, "push")
	}
	if u.Delete {
		allowed = append(allowed, "delete")
	}
	granted := []string{}
	for _, action := range strings.Split(parts[len(parts)-1], ",") {
		if slices.Contains(allowed, action) && !slices.Contains(granted, action) {
			granted = append(granted, action)
		}
	}
	return map[string]any{"type": "repository", "name": repoName, "actions": granted}
}

// sign makes an ES256 JWT whose x5c header carries the signing certificate, which distribution 2.8 verifies against
// auth.token.rootcertbundle (registry/auth/token/token.go, VerifySigningKey).
func (ts *tokenServer) sign(claims map[string]any) (string, error) {
	header := map[string]any{
		"typ": "JWT",
		"alg": "ES256",
		"x5c": []string{base64.StdEncoding.EncodeToString(ts.signer.cert.Raw)},
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signingInput := b64url(h) + "." + b64url(c)
	digest := sha256.Sum256([]byte(signingInput))
	rr, ss, err := ecdsa.Sign(rand.Reader, ts.signer.key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64) // JWS ES256: R and S, each left-padded to 32 bytes
	rr.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	return signingInput + "." + b64url(sig), nil
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
