package bench

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Wall times on 2 shared cores vary from run to run by more than the margins the targets
// leave, so the benchmarks run each measured phase BENCH_RUNS times (5) and judge the median.

// benchRuns is how many times a measured phase runs (BENCH_RUNS, at least 1; 5 by default).
func benchRuns() int { return envInt("BENCH_RUNS", 5) }

// spread is the min, median and max of a series (the median of an even count is the mean of the
// middle two).
type spread struct{ min, med, max float64 }

func spreadOf(xs []float64) spread {
	if len(xs) == 0 {
		return spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return spread{s[0], med, s[n-1]}
}

func durSpread(ds []time.Duration) spread {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = d.Seconds()
	}
	return spreadOf(xs)
}

// ms formats a spread of seconds in milliseconds.
func (s spread) ms() string {
	return fmt.Sprintf("%.0f / %.0f / %.0f ms", 1000*s.min, 1000*s.med, 1000*s.max)
}

// ratioTo formats a spread divided by d.
func (s spread) ratioTo(d float64) string {
	return fmt.Sprintf("%.2fx / %.2fx / %.2fx", s.min/d, s.med/d, s.max/d)
}

// medianRun is the run whose wall time is the median one (the lower middle of an even count):
// the table shows its figures, so that a row's counts and times come from one run.
func medianRun(rs []run) run {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b run) int { return int(a.wall - b.wall) })
	return s[(len(s)-1)/2]
}

// machineLoad describes the machine's load (/proc/loadavg) and tells whether it is busy: a
// 1-minute load average above half the CPUs, when other work competes with the benchmark for
// the cores and wall-time figures say more about the machine than about c4sctl.
func machineLoad() (desc string, busy bool) {
	cpus := runtime.NumCPU()
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return fmt.Sprintf("load unknown (%v), %d CPUs", err, cpus), false
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return fmt.Sprintf("load unknown (%q), %d CPUs", b, cpus), false
	}
	load1, _ := strconv.ParseFloat(f[0], 64)
	busy = load1 > 0.5*float64(cpus)
	return fmt.Sprintf("load average %s %s %s (1, 5, 15 min), %d CPUs", f[0], f[1], f[2], cpus), busy
}

// printLoad prints the machine's load before a benchmark starts, with a warning when it is busy.
func printLoad(name string) {
	desc, busy := machineLoad()
	fmt.Printf("\n%s: machine %s\n", name, desc)
	if busy {
		fmt.Printf("WARNING: the machine is busy (1-minute load above half its CPUs): other work shares the cores, so wall times are longer than on a quiet machine and a wall-time target MISSED here may be the machine's, not c4sctl's\n")
	}
}

// span is when, since the process started, its first request arrived and its last answer was
// sent.
func (r run) span() (first, last time.Duration) {
	for i, e := range r.recs {
		if d := e.at.Sub(r.start); i == 0 || d < first {
			first = d
		}
		last = max(last, e.at.Add(e.dur).Sub(r.start))
	}
	return first, last
}
