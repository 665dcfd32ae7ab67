/* parallel.h - run a function over indices 0..n-1 on a few pthreads.
 *
 * Work is handed out one index at a time from an atomic counter, so
 * uneven items balance themselves.  Each worker has a thread number
 * 0..n_threads-1 that the callback uses to pick its own context (an
 * encoder workspace, a scratch buffer).  The first failure (the one with
 * the lowest index among those that failed) stops the hand-out of new
 * indices, and its status and message are returned on the calling
 * thread.  There is no pool: threads live for one call.
 */
#ifndef SG_PARALLEL_H
#define SG_PARALLEL_H

#include <stddef.h>

/* Processes item i on worker thread `thread`; returns 0 or a negative
 * SG_E_* code with the message set through sg_fail. */
typedef int (*sg_parallel_fn)(void *arg, int thread, size_t i);

/* The number of threads to use for a request: requested > 0 is taken as
 * is, 0 (or less) means one per online core. */
int sg_parallel_threads(int requested);

/* Calls fn(arg, thread, i) for every i in [0, n) on n_threads workers
 * (0 = all cores; never more than n).  Returns 0 when every call
 * succeeded, else the lowest-index failure's status, with its message
 * copied into the calling thread's sg_last_error.  arg is borrowed. */
int sg_parallel_for(size_t n, int n_threads, sg_parallel_fn fn, void *arg);

#endif
