package registry

import "testing"

// Only the registry API's NAME_UNKNOWN says a repository does not exist (distribution docs/spec/api.md, "Listing
// Image Tags", error codes); Amazon ECR answers it with its own message.
func TestClassifyRepositoryAnswer(t *testing.T) {
	for _, tc := range []struct {
		name              string
		code              int
		body              string
		status            Status
		notFound, refused bool
	}{
		{"exists", 200, `{"name":"acme/os","tags":["1"]}`, StatusOK, false, false},
		{"exists without tags", 200, `{"name":"acme/os","tags":null}`, StatusOK, false, false},
		{"distribution: name unknown", 404, `{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"acme/os"}}]}`, StatusFailed, true, false},
		{"ECR: name unknown", 404, `{"errors":[{"code":"NAME_UNKNOWN","message":"The repository with name 'acme/os' does not exist in the registry with id '123456789012'"}]}`, StatusFailed, true, false},
		{"a 404 from something else", 404, `<html>Not Found</html>`, StatusUnknown, false, false},
		{"another registry error on 404", 404, `{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`, StatusUnknown, false, false},
		{"credentials refused", 401, `{"errors":[{"code":"UNAUTHORIZED"}]}`, StatusFailed, false, true},
		{"ECR: not authorized", 403, `{"errors":[{"code":"DENIED","message":"not authorized to perform: ecr:ListImages"}]}`, StatusFailed, false, true},
		{"name unknown with a 403", 403, `{"errors":[{"code":"NAME_UNKNOWN"}]}`, StatusFailed, true, false},
		{"server error", 500, ``, StatusUnknown, false, false},
	} {
		a := classifyRepositoryAnswer(tc.code, []byte(tc.body))
		if a.status != tc.status || a.notFound != tc.notFound || a.refused != tc.refused {
			t.Errorf("%s: got %+v, want status %s notFound %v refused %v", tc.name, a, tc.status, tc.notFound, tc.refused)
		}
	}
}
