/* test_parallel.c - sg_parallel_for (every index once, thread ids in
 * range, lowest-index error wins and reaches the caller's thread) and the
 * progress bar's plain-line mode. */
#include "tests/sg_test.h"

#include "src/base/parallel.h"
#include "src/base/progress.h"
#include "src/base/sg_error.h"

#include <stdatomic.h>

struct count_job {
    atomic_int *hits;
    int n_threads;
    atomic_int bad_thread;
    size_t fail_from;   /* indices >= this fail (SIZE_MAX: none) */
};

static int count_one(void *arg, int thread, size_t i)
{
    struct count_job *job = arg;
    if (thread < 0 || thread >= job->n_threads)
        atomic_store(&job->bad_thread, 1);
    atomic_fetch_add(&job->hits[i], 1);
    if (i >= job->fail_from)
        return sg_fail(SG_E_PARSE, "item %zu failed", i);
    return 0;
}

static void test_parallel_for(void **state)
{
    (void)state;
    enum { N = 1000 };
    static atomic_int hits[N];
    for (int nt = 1; nt <= 4; nt++) {
        for (int i = 0; i < N; i++)
            atomic_init(&hits[i], 0);
        struct count_job job = {hits, nt, 0, SIZE_MAX};
        assert_int_equal(sg_parallel_for(N, nt, count_one, &job), 0);
        for (int i = 0; i < N; i++)
            if (atomic_load(&hits[i]) != 1)
                fail_msg("threads %d: index %d ran %d times", nt, i, atomic_load(&hits[i]));
        assert_int_equal(atomic_load(&job.bad_thread), 0);
    }
    /* failures: the lowest failing index is reported, on this thread */
    for (int i = 0; i < N; i++)
        atomic_init(&hits[i], 0);
    struct count_job job = {hits, 3, 0, 500};
    sg_error_clear();
    assert_int_equal(sg_parallel_for(N, 3, count_one, &job), SG_E_PARSE);
    assert_string_equal(sg_last_error(), "item 500 failed");
    assert_int_equal(sg_parallel_for(0, 3, count_one, &job), 0);
    assert_int_equal(sg_parallel_threads(3), 3);
    assert_true(sg_parallel_threads(0) >= 1);
}

static void test_progress_plain(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    assert_non_null(f);
    sg_progress *p;
    assert_int_equal(sg_progress_create(&p, f, "encode", 100, 0), 0);
    for (int i = 0; i < 100; i++)
        sg_progress_add(p, 1);
    sg_progress_set_text(p, "loss 0.5");
    sg_progress_finish(p);
    sg_progress_free(p);
    fclose(f);
    /* nine tenths (10..90) plus the final line */
    int lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += buf[i] == '\n';
    if (lines != 10)
        fail_msg("expected 10 lines, got %d:\n%s", lines, buf);
    assert_non_null(strstr(buf, "encode: 10/100 ("));
    assert_non_null(strstr(buf, "encode: 90/100 ("));
    assert_non_null(strstr(buf, "encode: 100/100 ("));
    assert_non_null(strstr(buf, " loss 0.5\n"));
    assert_null(strchr(buf, '\r'));
    free(buf);

    /* terminal mode redraws in place with \r and ends with one newline */
    f = open_memstream(&buf, &size);
    assert_non_null(f);
    assert_int_equal(sg_progress_create(&p, f, "train", 3, 1), 0);
    sg_progress_add(p, 3);
    sg_progress_free(p);
    fclose(f);
    assert_int_equal(buf[0], '\r');
    assert_non_null(strstr(buf, "train [########################] 3/3"));
    assert_int_equal(buf[size - 1], '\n');
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_for),
        cmocka_unit_test(test_progress_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
