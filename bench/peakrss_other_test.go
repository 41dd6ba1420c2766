//go:build !linux

package bench

// watchPeakRSS samples nothing outside Linux (no /proc/PID/status): runChild falls back to
// getrusage's ru_maxrss (maxRSS).
func watchPeakRSS(int) (stop func() int64) { return func() int64 { return -1 } }
