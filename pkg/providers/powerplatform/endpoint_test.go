package powerplatform

import (
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
)

func TestEndpointsMustBeHTTPS(t *testing.T) {
	providertest.CheckEndpointSettings(t, New(), []string{"bap_endpoint", "dataverse_url", "login_endpoint"}, nil, nil)
}
