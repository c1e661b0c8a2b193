/*
 * Ordering: synthetic per-CPU rings written concurrently and drained one
 * after another in passes must come out in non-decreasing time, complete,
 * and without waiting for the end of the run.
 */
#include "core/order.h"

#include "check.h"

#define NR_RINGS 4
#define PER_RING 5000

struct ev {
	uint64_t time; /* timestamp taken by the writer */
	uint64_t commit; /* when it becomes visible in the ring */
	int ring;
	int delivered;
};

static struct ev evs[NR_RINGS][PER_RING];
static uint64_t last_time;
static size_t nr_delivered, nr_out_of_order;

static void deliver(void *ctx, uint64_t time, void *item)
{
	struct ev *e = item;

	(void)ctx;
	if (time < last_time)
		nr_out_of_order++;
	last_time = time;
	CHECK(!e->delivered);
	e->delivered = 1;
	nr_delivered++;
}

/* A small deterministic generator so failures reproduce. */
static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/*
 * Passes every @pass_period, ring r read @ring_gap after ring r-1, records
 * written up to @max_lag after their stamp, flush held @slack behind.
 * Returns the number of records that came too late to be put in order.
 */
static uint64_t run_lagged(uint64_t pass_period, uint64_t ring_gap, uint64_t max_lag,
			   uint64_t slack)
{
	struct order_queue *q = order_queue__new(deliver, NULL);
	uint64_t late;
	size_t pos[NR_RINGS] = { 0 };
	uint64_t now = 1000, end = 0;
	int r;

	order_queue__set_slack(q, slack);
	last_time = 0;
	nr_delivered = nr_out_of_order = 0;
	for (r = 0; r < NR_RINGS; r++) {
		uint64_t t = 1000 + rng() % 50;

		for (size_t i = 0; i < PER_RING; i++) {
			/* Bursty writers: mostly close together, sometimes long gaps. */
			t += (rng() % 10 == 0) ? rng() % 5000 : rng() % 40;
			evs[r][i].time = t;
			/* The copy into the ring lands a little after the stamp. */
			evs[r][i].commit = t + rng() % (max_lag + 1);
			evs[r][i].ring = r;
			evs[r][i].delivered = 0;
		}
		if (t + max_lag + 1 > end)
			end = t + max_lag + 1;
	}

	while (now <= end + pass_period) {
		uint64_t pass_start = now;

		order_queue__pass(q, pass_start);
		/* Rings are read one after another; time moves on while reading. */
		for (r = 0; r < NR_RINGS; r++) {
			uint64_t read_at = pass_start + (uint64_t)r * ring_gap;

			while (pos[r] < PER_RING && evs[r][pos[r]].commit <= read_at) {
				struct ev *e = &evs[r][pos[r]++];

				CHECK(order_queue__push(q, e->time, e) == 0);
			}
		}
		/* Everything stamped well before the previous pass is out by now. */
		for (r = 0; r < NR_RINGS; r++)
			for (size_t i = 0; i < pos[r]; i++)
				if (evs[r][i].time + 2 * pass_period + NR_RINGS * ring_gap + slack +
					    max_lag <
				    pass_start)
					CHECK(evs[r][i].delivered);
		now += pass_period;
	}
	order_queue__flush_all(q);
	CHECK_EQ_U64(nr_delivered, NR_RINGS * PER_RING);
	CHECK_EQ_U64(order_queue__len(q), 0);
	late = order_queue__late(q);
	if (!late)
		CHECK_EQ_U64(nr_out_of_order, 0);
	order_queue__delete(q);
	return late;
}

static void run(uint64_t pass_period, uint64_t ring_gap)
{
	CHECK_EQ_U64(run_lagged(pass_period, ring_gap, 2, 0), 0);
}

/* Equal stamps keep arrival order, and a late record is delivered and counted. */
static int seen[3];
static int nseen;
static void deliver_ties(void *ctx, uint64_t time, void *item)
{
	(void)ctx;
	(void)time;
	seen[nseen++] = *(int *)item;
}

static void test_ties_and_late(void)
{
	static int a = 1, b = 2, c = 3;
	struct order_queue *q = order_queue__new(deliver_ties, NULL);

	order_queue__push(q, 10, &a);
	order_queue__push(q, 10, &b);
	order_queue__flush_upto(q, 10);
	CHECK(nseen == 2 && seen[0] == 1 && seen[1] == 2);
	order_queue__push(q, 5, &c); /* older than what was delivered */
	CHECK(nseen == 3 && seen[2] == 3);
	CHECK_EQ_U64(order_queue__late(q), 1);
	order_queue__delete(q);
}

int main(void)
{
	run(100, 0); /* instantaneous reads */
	run(100, 30); /* rings read far apart within a pass */
	run(7, 5); /* passes shorter than bursts */
	/* Writes lagging their stamps by more than a pass: late without slack, not with it. */
	CHECK(run_lagged(7, 2, 30, 0) > 0);
	CHECK_EQ_U64(run_lagged(7, 2, 30, 31), 0);
	test_ties_and_late();
	CHECK_DONE();
}
