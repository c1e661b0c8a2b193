/*
 * Timestamp ordering of records drained from several per-CPU rings.
 *
 * The flush rule. The poll loop drains every ring completely in each pass,
 * and stamps the start of pass k with the clock the records carry (P_k).
 * Each ring is written in time order by its own CPU, but rings are read one
 * after another, so a pass sees CPU 1's records up to the moment it reads
 * ring 1, which may be later than the moment it read ring 0. A record
 * stamped t < P_k was written (its timestamp is taken just before the copy
 * into the ring, with interrupts off) before pass k began, so pass k reads
 * it at the latest. Hence, at the start of pass k+1 every record stamped
 * before P_k is in the queue, and nothing stamped before P_k can still come:
 * those records are delivered, in time order. A record that nonetheless
 * arrives older than what was delivered is delivered at once and counted
 * as late (order_queue__late), never dropped.
 *
 * "Just before" is not always short: a sample is stamped before its call
 * chain and user stack are copied, which for a uprobe in a deep user stack
 * takes tens of microseconds, and passes can follow each other faster than
 * that when the rings are busy. So the flush point is held a fixed slack
 * further back (order_queue__set_slack): at the start of pass k+1,
 * everything stamped before P_k - slack is delivered. A record written at
 * most slack after its stamp was written before pass k began.
 *
 * The queue is a binary min-heap on (time, arrival sequence), so records
 * with equal stamps keep their arrival order.
 */
#include "order.h"

#include <errno.h>
#include <stdlib.h>

struct order_item {
	uint64_t time;
	uint64_t seq;
	void *item;
};

struct order_queue {
	struct order_item *heap;
	size_t len, cap;
	uint64_t seq;
	uint64_t prev_pass; /* P_k of the last pass, 0 before the first */
	uint64_t last_delivered;
	uint64_t slack;
	uint64_t late;
	order_deliver_fn deliver;
	void *ctx;
};

struct order_queue *order_queue__new(order_deliver_fn deliver, void *ctx)
{
	struct order_queue *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->deliver = deliver;
	q->ctx = ctx;
	return q;
}

void order_queue__delete(struct order_queue *q)
{
	if (!q)
		return;
	/* Items still queued belong to the queue: hand them on rather than leak. */
	order_queue__flush_all(q);
	free(q->heap);
	free(q);
}

static int item_less(const struct order_item *a, const struct order_item *b)
{
	if (a->time != b->time)
		return a->time < b->time;
	return a->seq < b->seq;
}

static void sift_up(struct order_item *h, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		struct order_item tmp;

		if (!item_less(&h[i], &h[parent]))
			break;
		tmp = h[i];
		h[i] = h[parent];
		h[parent] = tmp;
		i = parent;
	}
}

static void sift_down(struct order_item *h, size_t len, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct order_item tmp;

		if (l < len && item_less(&h[l], &h[m]))
			m = l;
		if (r < len && item_less(&h[r], &h[m]))
			m = r;
		if (m == i)
			break;
		tmp = h[i];
		h[i] = h[m];
		h[m] = tmp;
		i = m;
	}
}

int order_queue__push(struct order_queue *q, uint64_t time, void *item)
{
	if (time < q->last_delivered) {
		/* Too late to be put in order: deliver now, and say so. */
		q->late++;
		q->deliver(q->ctx, time, item);
		return 0;
	}
	if (q->len == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 1024;
		struct order_item *h = realloc(q->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		q->heap = h;
		q->cap = cap;
	}
	q->heap[q->len].time = time;
	q->heap[q->len].seq = q->seq++;
	q->heap[q->len].item = item;
	sift_up(q->heap, q->len);
	q->len++;
	return 0;
}

static void deliver_min(struct order_queue *q)
{
	struct order_item top = q->heap[0];

	q->heap[0] = q->heap[--q->len];
	sift_down(q->heap, q->len, 0);
	q->last_delivered = top.time;
	q->deliver(q->ctx, top.time, top.item);
}

void order_queue__flush_upto(struct order_queue *q, uint64_t upto)
{
	while (q->len && q->heap[0].time <= upto)
		deliver_min(q);
}

void order_queue__set_slack(struct order_queue *q, uint64_t slack)
{
	q->slack = slack;
}

void order_queue__pass(struct order_queue *q, uint64_t now)
{
	/*
	 * Records are read during a pass, after this flush: only those written
	 * before the previous pass began are surely in the queue.
	 */
	uint64_t upto = q->prev_pass > q->slack ? q->prev_pass - q->slack : 0;

	/* Strictly before: a record stamped exactly there may still be in flight. */
	if (upto)
		order_queue__flush_upto(q, upto - 1);
	q->prev_pass = now;
}

void order_queue__flush_all(struct order_queue *q)
{
	while (q->len)
		deliver_min(q);
}

size_t order_queue__len(const struct order_queue *q)
{
	return q->len;
}

uint64_t order_queue__floor(const struct order_queue *q)
{
	return q->last_delivered;
}

uint64_t order_queue__late(const struct order_queue *q)
{
	return q->late;
}
