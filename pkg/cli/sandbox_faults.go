package cli

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/faults"
	"github.com/spf13/cobra"
)

// faultFlags are the sandbox's fault-injection settings: flags of `sandbox serve`, and the
// C4S_SANDBOX_FAULTS variable ("latency=20ms,fault-rate=0.2,throttle=50,seed=7,down=salesforce";
// several APIs down: "down=salesforce+graph") for the in-process sandbox of --sandbox.
type faultFlags struct {
	latency   time.Duration
	faultRate float64
	throttle  float64
	seed      int64
	down      []string
}

func (f *faultFlags) register(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&f.latency, "latency", 0, "answer every request this long after it arrives, the sandbox's own work included (e.g. 20ms)")
	cmd.Flags().Float64Var(&f.faultRate, "fault-rate", 0, "probability (0..1) of a fault per API request: a mix of 429 with Retry-After, 503 and dropped connections")
	cmd.Flags().Float64Var(&f.throttle, "throttle", 0, "requests per second allowed per API; more are answered 429 with Retry-After")
	cmd.Flags().Int64Var(&f.seed, "seed", 1, "seed of the fault draws, for reproducible runs")
	cmd.Flags().StringSliceVar(&f.down, "down", nil, "answer every request to these APIs (e.g. salesforce,graph) 500, as in an outage")
}

func (f *faultFlags) options() (faults.Options, bool, error) {
	if f.faultRate < 0 || f.faultRate > 1 {
		return faults.Options{}, false, fmt.Errorf("--fault-rate %v: give a probability between 0 and 1", f.faultRate)
	}
	if f.throttle < 0 || f.latency < 0 {
		return faults.Options{}, false, fmt.Errorf("--throttle and --latency cannot be negative")
	}
	on := f.latency > 0 || f.faultRate > 0 || f.throttle > 0 || len(f.down) > 0
	return faults.Options{Latency: f.latency, FaultRate: f.faultRate, Throttle: f.throttle, Seed: f.seed, Down: f.down}, on, nil
}

// parseFaultSpec reads C4S_SANDBOX_FAULTS.
func parseFaultSpec(spec string) (faultFlags, error) {
	f := faultFlags{seed: 1}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return f, fmt.Errorf("C4S_SANDBOX_FAULTS: %q is not key=value (keys: latency, fault-rate, throttle, seed, down)", part)
		}
		var err error
		switch strings.TrimSpace(k) {
		case "latency":
			f.latency, err = time.ParseDuration(v)
		case "fault-rate":
			f.faultRate, err = strconv.ParseFloat(v, 64)
		case "throttle":
			f.throttle, err = strconv.ParseFloat(v, 64)
		case "seed":
			f.seed, err = strconv.ParseInt(v, 10, 64)
		case "down":
			f.down = append(f.down, strings.Split(v, "+")...)
		default:
			return f, fmt.Errorf("C4S_SANDBOX_FAULTS: unknown key %q (keys: latency, fault-rate, throttle, seed, down)", k)
		}
		if err != nil {
			return f, fmt.Errorf("C4S_SANDBOX_FAULTS: %s: %v", k, err)
		}
	}
	return f, nil
}

// checkDown refuses an API name in down that no sandbox service has: "down=dataverse" or a typo
// was ignored, and the run answered as if nothing were down.
func checkDown(down []string, svcs []sandbox.Service) error {
	var names []string
	for _, svc := range svcs {
		names = append(names, svc.Name())
	}
	for _, d := range down {
		if !slices.Contains(names, d) {
			return fmt.Errorf("down: no sandbox API is called %q (the APIs: %s)", d, strings.Join(names, ", "))
		}
	}
	return nil
}
