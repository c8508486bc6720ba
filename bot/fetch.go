package bot

import (
	"context"
	"fmt"
	"time"
)

// fetch asks the vendor for the record decided on, within the request's
// budget.
func (b *Bot) fetch(work context.Context, req *request, asked result) result {
	ctx, cancel := context.WithTimeoutCause(work, b.cfg.CommandTimeout, errCommandTimeout)
	defer cancel()
	start := time.Now()
	rep, err := b.vendor.GenerateTempReport(ctx, asked.recordNo)
	cause := contextCause(ctx)
	if err != nil && cause != nil {
		err = fmt.Errorf("%w: %w", cause, err)
	}
	res := vendorResult(rep, err, cause)
	res.recordNo, res.records, res.cut = asked.recordNo, asked.records, asked.cut
	if b.debug {
		b.log.Debug("vendor call ended", "delivery", req.key, "record", asked.recordNo, "outcome", res.outcome, "took", time.Since(start))
	}
	return res
}
