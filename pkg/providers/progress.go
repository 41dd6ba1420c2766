package providers

import "context"

// Progress is how far a long change has got: Done of Total units (e.g. 4200 of 20000 "users").
type Progress struct {
	Done, Total int
	Unit        string
}

type progressKey struct{}

// WithProgress returns a context whose change reports its progress to fn. The engine sets it for
// each change it applies, and shows the last report while the change runs.
func WithProgress(ctx context.Context, fn func(Progress)) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

// ReportProgress tells the engine how far the change of ctx has got: adapters call it from bulk
// writes (Graph $batch, sObject Collections). Without WithProgress it does nothing.
func ReportProgress(ctx context.Context, p Progress) {
	if fn, ok := ctx.Value(progressKey{}).(func(Progress)); ok && fn != nil {
		fn(p)
	}
}
