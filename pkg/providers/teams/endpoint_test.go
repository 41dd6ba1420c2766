package teams_test

import (
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/providers/teams"
)

func TestEndpointsMustBeHTTPS(t *testing.T) {
	providertest.CheckEndpointSettings(t, teams.New(), []string{"endpoint", "login_endpoint"}, nil, nil)
}
