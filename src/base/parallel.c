/* parallel.c - sg_parallel_for over pthreads (see parallel.h).
 *
 * The calling thread works as thread 0, so n_threads = 1 runs inline
 * without creating any thread (handy under a debugger).
 */
#include "src/base/parallel.h"
#include "src/base/sg_error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ERR_MAX = 1024 };

struct job {
    size_t n;
    sg_parallel_fn fn;
    void *arg;
    atomic_size_t next;
    atomic_int stop;
    pthread_mutex_t lock;   /* guards the error fields */
    size_t err_index;       /* lowest failing index so far */
    int err_code;
    char err_msg[ERR_MAX];
};

struct worker {
    struct job *job;
    int thread;
};

static void *worker_run(void *p)
{
    struct worker *w = p;
    struct job *job = w->job;
    while (!atomic_load(&job->stop)) {
        size_t i = atomic_fetch_add(&job->next, 1);
        if (i >= job->n)
            break;
        int rc = job->fn(job->arg, w->thread, i);
        if (rc != 0) {
            pthread_mutex_lock(&job->lock);
            if (job->err_code == 0 || i < job->err_index) {
                job->err_index = i;
                job->err_code = rc;
                snprintf(job->err_msg, sizeof job->err_msg, "%s", sg_last_error());
            }
            pthread_mutex_unlock(&job->lock);
            atomic_store(&job->stop, 1);
        }
    }
    return NULL;
}

int sg_parallel_threads(int requested)
{
    if (requested > 0)
        return requested;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int sg_parallel_for(size_t n, int n_threads, sg_parallel_fn fn, void *arg)
{
    if (n == 0)
        return SG_OK;
    int nt = sg_parallel_threads(n_threads);
    if ((size_t)nt > n)
        nt = (int)n;

    struct job job = {.n = n, .fn = fn, .arg = arg};
    atomic_init(&job.next, 0);
    atomic_init(&job.stop, 0);
    if (pthread_mutex_init(&job.lock, NULL) != 0)
        return sg_fail(SG_E_NOMEM, "cannot create a mutex");

    struct worker *workers = calloc((size_t)nt, sizeof *workers);
    pthread_t *tids = calloc((size_t)nt, sizeof *tids);
    if (!workers || !tids) {
        free(workers);
        free(tids);
        pthread_mutex_destroy(&job.lock);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    int started = 1;   /* thread 0 is the caller */
    for (int t = 0; t < nt; t++) {
        workers[t].job = &job;
        workers[t].thread = t;
    }
    for (int t = 1; t < nt; t++) {
        if (pthread_create(&tids[t], NULL, worker_run, &workers[t]) != 0) {
            /* Fewer threads is still correct: the others take the work. */
            break;
        }
        started++;
    }
    worker_run(&workers[0]);
    for (int t = 1; t < started; t++)
        pthread_join(tids[t], NULL);

    int rc = job.err_code;
    if (rc != 0)
        sg_fail(rc, "%s", job.err_msg);
    free(workers);
    free(tids);
    pthread_mutex_destroy(&job.lock);
    return rc;
}
