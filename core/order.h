/*
 * Timestamp ordering of records drained from several per-CPU rings.
 *
 * Records are queued as they are read and handed on in non-decreasing time
 * order once they are known to be final; see order.c for the flush rule.
 */
#ifndef STACKPROF_ORDER_H
#define STACKPROF_ORDER_H

#include <stddef.h>
#include <stdint.h>

struct order_queue;

/* Called for each record handed on, in time order. */
typedef void (*order_deliver_fn)(void *ctx, uint64_t time, void *item);

/* Creates an empty queue. Returns NULL and sets errno on failure. */
struct order_queue *order_queue__new(order_deliver_fn deliver, void *ctx);
void order_queue__delete(struct order_queue *q);

/*
 * Queues @item stamped @time. Ownership of @item passes to the queue until it
 * is delivered. Returns 0 or -ENOMEM.
 */
int order_queue__push(struct order_queue *q, uint64_t time, void *item);

/*
 * Marks the start of a drain pass at @now (same clock as the records). Every
 * record stamped before the previous pass started, less the slack, is
 * delivered.
 */
void order_queue__pass(struct order_queue *q, uint64_t now);

/*
 * Holds the flush point @slack further behind the previous pass (0 by
 * default), for records whose write can lag their timestamp; see order.c.
 */
void order_queue__set_slack(struct order_queue *q, uint64_t slack);

/* Delivers every record with time <= @upto. */
void order_queue__flush_upto(struct order_queue *q, uint64_t upto);

/* Delivers everything still queued (end of run). */
void order_queue__flush_all(struct order_queue *q);

/* Number of queued records. */
size_t order_queue__len(const struct order_queue *q);

/*
 * The oldest stamp a record pushed now can carry and still be delivered in
 * order: the time of the last record delivered (0 before the first).
 */
uint64_t order_queue__floor(const struct order_queue *q);

/* Records that arrived older than what was already delivered (should be 0). */
uint64_t order_queue__late(const struct order_queue *q);

#endif
