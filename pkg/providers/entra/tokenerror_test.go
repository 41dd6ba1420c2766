package entra

import (
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/c4sctl/c4sctl/pkg/providers"
)

// A token endpoint's 5xx is no verdict on the credential (preflight: not checked); its 401 is.
func TestTokenErrorCarriesTheStatus(t *testing.T) {
	for status, want := range map[int]bool{503: true, 500: true, 401: false, 400: false} {
		err := withStatus(&azidentity.AuthenticationFailedError{RawResponse: &http.Response{StatusCode: status}})
		if got := providers.Inconclusive(err); got != want {
			t.Errorf("token endpoint %d: Inconclusive = %v, want %v", status, got, want)
		}
	}
}
