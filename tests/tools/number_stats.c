/* Runs in: workers, after the sandbox (test builds only). */
/* number_stats (test builds only): an object result with text of its own. */
#include <math.h>

#include "worker/tool.h"

static int
stats(struct mcpd_call *call)
{
	const struct mcpd_value *xs = mcpd_arg(call, "numbers");
	double sum = 0, min, max;

	if (xs->count == 0)
		return mcpd_error(call, "needs at least one number");
	min = max = xs->items[0].number;
	for (size_t i = 0; i < xs->count; i++) {
		sum += xs->items[i].number;
		min = fmin(min, xs->items[i].number);
		max = fmax(max, xs->items[i].number);
	}
	if (!isfinite(sum))
		return mcpd_error(call, "the sum is not a finite number");
	mcpd_set_integer(call, "count", (int64_t)xs->count);
	mcpd_set_number(call, "mean", sum / (double)xs->count);
	mcpd_set_number(call, "min", min);
	mcpd_set_number(call, "max", max);
	mcpd_set_text(call, "%zu numbers from %g to %g, mean %g", xs->count, min, max, sum / (double)xs->count);
	return mcpd_return_object(call);
}

MCPD_TOOL(
	.description = "Count, mean, minimum and maximum of numbers (test builds only)",
	MCPD_PARAMS(MCPD_NUMBER("numbers", "The numbers, at most 10000", MCPD_ARRAY(10000))),
	MCPD_RETURNS_OBJECT(
	    MCPD_FIELD("count", MCPD_TYPE_INTEGER, "how many numbers"),
	    MCPD_FIELD("mean", MCPD_TYPE_NUMBER, "their mean"),
	    MCPD_FIELD("min", MCPD_TYPE_NUMBER, "the smallest"),
	    MCPD_FIELD("max", MCPD_TYPE_NUMBER, "the largest")),
	.annotations = {.read_only = true, .idempotent = true},
	.run = stats,
);
