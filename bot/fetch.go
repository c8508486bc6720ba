package bot

import (
	"context"
	"fmt"
	"time"
)

// fetch asks the vendor for env's record, within the command's budget.
func (b *Bot) fetch(work context.Context, env *envelope) result {
	ctx, cancel := context.WithTimeoutCause(work, b.cfg.CommandTimeout, errCommandTimeout)
	defer cancel()
	start := time.Now()
	rep, err := b.vendor.GenerateTempReport(ctx, env.recordNo)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
	}
	res := classify(rep, err)
	if b.debug {
		b.log.Debug("vendor call ended", "envelope_id", env.key, "record", env.recordNo, "outcome", res.outcome, "took", time.Since(start))
	}
	return res
}
