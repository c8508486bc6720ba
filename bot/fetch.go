package bot

import (
	"context"
	"fmt"
	"time"
)

// fetch asks the vendor for the record decided on, within the command's
// budget.
func (b *Bot) fetch(work context.Context, env *envelope, asked result) result {
	ctx, cancel := context.WithTimeoutCause(work, b.cfg.CommandTimeout, errCommandTimeout)
	defer cancel()
	start := time.Now()
	rep, err := b.vendor.GenerateTempReport(ctx, asked.recordNo)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
	}
	res := classify(rep, err)
	res.recordNo, res.records, res.cut = asked.recordNo, asked.records, asked.cut
	if b.debug {
		b.log.Debug("vendor call ended", "envelope_id", env.key, "record", asked.recordNo, "outcome", res.outcome, "took", time.Since(start))
	}
	return res
}
