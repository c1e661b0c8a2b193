/*
 * Kernel features (core/features.h): the STACKPROF_FORCE_NO_<NAME> variables,
 * the older STACKPROF_UPROBE_TRACEFS, answers kept once given, and features
 * that go with the one they need.
 */
#include "core/features.h"

#include "check.h"

static void test_forced_features(void)
{
	features__reset();
	setenv("STACKPROF_FORCE_NO_CLOCKID", "1", 1);
	CHECK(features__forced_off(FEAT_CLOCKID));
	CHECK(!features__has(FEAT_CLOCKID));
	setenv("STACKPROF_FORCE_NO_CLOCKID", "0", 1);
	CHECK(!features__forced_off(FEAT_CLOCKID));
	/* Answers are kept: a run does not change its mind halfway. */
	CHECK(!features__has(FEAT_CLOCKID));
	unsetenv("STACKPROF_FORCE_NO_CLOCKID");

	/* A feature is off with the one it needs. */
	features__reset();
	setenv("STACKPROF_FORCE_NO_MMAP2", "1", 1);
	CHECK(!features__forced_off(FEAT_MMAP_BUILD_ID));
	CHECK(!features__has(FEAT_MMAP_BUILD_ID));
	unsetenv("STACKPROF_FORCE_NO_MMAP2");
	features__reset();
	setenv("STACKPROF_FORCE_NO_SAMPLE_ID_ALL", "yes", 1);
	CHECK(!features__has(FEAT_CONTEXT_SWITCH));
	unsetenv("STACKPROF_FORCE_NO_SAMPLE_ID_ALL");

	/* The uprobe PMU keeps its older variable. */
	setenv("STACKPROF_UPROBE_TRACEFS", "1", 1);
	CHECK(features__forced_off(FEAT_UPROBE_PMU));
	unsetenv("STACKPROF_UPROBE_TRACEFS");
	setenv("STACKPROF_FORCE_NO_UPROBE_PMU", "1", 1);
	CHECK(features__forced_off(FEAT_UPROBE_PMU));
	unsetenv("STACKPROF_FORCE_NO_UPROBE_PMU");
	CHECK(!features__forced_off(FEAT_UPROBE_PMU));
	CHECK_STR(features__name(FEAT_MMAP_BUILD_ID), "MMAP_BUILD_ID");
	features__reset();
}

int main(void)
{
	test_forced_features();
	CHECK_DONE();
}
