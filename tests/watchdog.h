/*
 * watchdog.h - the test suites' time limit.
 *
 * A hung test dies by SIGALRM, which Criterion reports as a crash.
 * Criterion's own .timeout is not used anywhere: in 2.4.1 the runner
 * allocates a 48-byte timer record per timed test and, when a worker
 * ends while the timer thread still holds it, never frees it; under
 * LeakSanitizer that fails the whole binary at exit, at random.  Each
 * Criterion test runs in its own process, so arm the alarm in the test
 * or the suite's .init; children forked by a test do not inherit it.
 */
#ifndef TESTS_WATCHDOG_H
#define TESTS_WATCHDOG_H

#include <unistd.h>

#define WATCHDOG(secs) ((void)alarm(secs))

#endif
