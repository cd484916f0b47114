/*
 * answer_deadline: every answer the metrics process makes must be taken by
 * its scraper within --idle-timeout.
 *
 * h2o 2.2.5 has no write timeout: an answer, and its connection, stay for
 * as long as the scraper does not read, and a scraper that pipelines
 * requests and never reads holds its connection in that state for ever.
 * Each answer gets a deadline when it starts; at the deadline its
 * connection is shut down, which makes h2o's next write fail and h2o close
 * the connection itself.  The oldest answers can also be ended early, to
 * make room for a new scraper (admission.h).
 */
#ifndef MCPD_METRICS_ANSWER_DEADLINE_H
#define MCPD_METRICS_ANSWER_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#include <h2o.h>

/** Answers must be taken within `seconds`; call once, before the sandbox. */
void answer_deadline_init(h2o_loop_t *loop, unsigned seconds);
/** Starts the deadline of the answer to `req`; it ends when the request is disposed of. */
void answer_deadline_track(h2o_req_t *req);
/**
 * Ends the connection of the oldest answer that has been in flight for at
 * least `min_age_ms`; false when there is none.
 */
bool answer_deadline_end_oldest(uint64_t min_age_ms);

#endif
