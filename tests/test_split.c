/* test_split.c - partitions, determinism per seed, subject-wise
 * separation, leave-one-subject-out and k-fold coverage. */
#include "tests/sg_test.h"

#include "src/train/split.h"
#include "src/train/job_budget.h"
#include "src/base/sg_error.h"

/* Asserts that s partitions 0..n-1 with sorted sides. */
static void assert_partition(const sg_split *s, size_t n)
{
    assert_int_equal(s->n_train + s->n_valid, n);
    unsigned char *seen = calloc(n ? n : 1, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < s->n_train; i++) {
        assert_true(s->train[i] < n);
        assert_false(seen[s->train[i]]);
        seen[s->train[i]] = 1;
        if (i)
            assert_true(s->train[i - 1] < s->train[i]);
    }
    for (size_t i = 0; i < s->n_valid; i++) {
        assert_true(s->valid[i] < n);
        assert_false(seen[s->valid[i]]);
        seen[s->valid[i]] = 1;
        if (i)
            assert_true(s->valid[i - 1] < s->valid[i]);
    }
    free(seen);
}

static int same_split(const sg_split *a, const sg_split *b)
{
    return a->n_valid == b->n_valid && a->n_train == b->n_train &&
           memcmp(a->valid, b->valid, a->n_valid * sizeof(size_t)) == 0;
}

static void test_random(void **state)
{
    (void)state;
    sg_split a, b, c;
    assert_int_equal(sg_split_random(&a, 1000, 0.2, 42), 0);
    assert_partition(&a, 1000);
    assert_int_equal(a.n_valid, 200);
    assert_int_equal(sg_split_random(&b, 1000, 0.2, 42), 0);
    assert_true(same_split(&a, &b));
    assert_int_equal(sg_split_random(&c, 1000, 0.2, 43), 0);
    assert_false(same_split(&a, &c));
    sg_split_free(&a);
    sg_split_free(&b);
    sg_split_free(&c);
    /* trunc(0.2 * 7) = 1, as fastai */
    assert_int_equal(sg_split_random(&a, 7, 0.2, 1), 0);
    assert_int_equal(a.n_valid, 1);
    sg_split_free(&a);
    assert_int_equal(sg_split_random(&a, 10, 1.0, 1), SG_E_INVALID);
    assert_int_equal(sg_split_random(&a, 10, -0.1, 1), SG_E_INVALID);
}

static void test_stratified(void **state)
{
    (void)state;
    int labels[100];
    for (int i = 0; i < 100; i++)
        labels[i] = i < 50 ? 0 : (i < 80 ? 1 : 2);   /* 50 / 30 / 20 */
    sg_split s;
    assert_int_equal(sg_split_random_stratified(&s, labels, 100, 0.2, 7), 0);
    assert_partition(&s, 100);
    int per[3] = {0};
    for (size_t i = 0; i < s.n_valid; i++)
        per[labels[s.valid[i]]]++;
    assert_int_equal(per[0], 10);
    assert_int_equal(per[1], 6);
    assert_int_equal(per[2], 4);
    sg_split_free(&s);
}

static void test_subjects_and_loso(void **state)
{
    (void)state;
    enum { N = 120 };
    int subj[N];
    for (int i = 0; i < N; i++)
        subj[i] = 1 + (i * 7) % 8;   /* subjects 1..8, interleaved */
    sg_split s;
    const int valid[2] = {7, 8};
    assert_int_equal(sg_split_subjects(&s, subj, N, valid, 2), 0);
    assert_partition(&s, N);
    for (size_t i = 0; i < s.n_valid; i++)
        assert_true(subj[s.valid[i]] == 7 || subj[s.valid[i]] == 8);
    for (size_t i = 0; i < s.n_train; i++)
        assert_true(subj[s.train[i]] != 7 && subj[s.train[i]] != 8);
    assert_int_equal(s.n_valid, 30);
    sg_split_free(&s);
    const int missing[1] = {9};
    assert_int_equal(sg_split_subjects(&s, subj, N, missing, 1), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "subject 9"));

    /* LOSO: each subject is the validation side exactly once */
    int times_valid[9] = {0};
    for (size_t f = 0; f < 8; f++) {
        assert_int_equal(sg_split_loso(&s, subj, N, f), 0);
        assert_partition(&s, N);
        int v = subj[s.valid[0]];
        for (size_t i = 0; i < s.n_valid; i++)
            assert_int_equal(subj[s.valid[i]], v);
        for (size_t i = 0; i < s.n_train; i++)
            assert_true(subj[s.train[i]] != v);
        assert_int_equal(v, (int)f + 1);   /* folds follow sorted subjects */
        times_valid[v]++;
        sg_split_free(&s);
    }
    for (int v = 1; v <= 8; v++)
        assert_int_equal(times_valid[v], 1);
    assert_int_equal(sg_split_loso(&s, subj, N, 8), SG_E_INVALID);
    subj[5] = -1;
    assert_int_equal(sg_split_loso(&s, subj, N, 0), SG_E_INVALID);
}

static void test_subjects_holdout(void **state)
{
    (void)state;
    enum { N = 120 };
    int subj[N];
    for (int i = 0; i < N; i++)
        subj[i] = 1 + (i * 7) % 8;   /* subjects 1..8, 15 samples each */
    sg_split s, again;
    int *held = NULL, *held2 = NULL;
    size_t n_held = 0, n_held2 = 0;
    /* 0.2 of 8 subjects rounds to 2 held out, whole */
    assert_int_equal(sg_split_subjects_holdout(&s, &held, &n_held, subj, N, 0.2, 42), 0);
    assert_partition(&s, N);
    assert_int_equal(n_held, 2);
    assert_true(held[0] < held[1]);
    assert_int_equal(s.n_valid, 30);
    for (size_t i = 0; i < s.n_valid; i++)
        assert_true(subj[s.valid[i]] == held[0] || subj[s.valid[i]] == held[1]);
    for (size_t i = 0; i < s.n_train; i++)
        assert_true(subj[s.train[i]] != held[0] && subj[s.train[i]] != held[1]);
    /* the same seed gives the same subjects; some other seed differs */
    assert_int_equal(sg_split_subjects_holdout(&again, &held2, &n_held2, subj, N, 0.2, 42), 0);
    assert_int_equal(n_held2, 2);
    assert_memory_equal(held, held2, 2 * sizeof *held);
    sg_split_free(&again);
    free(held2);
    int differs = 0;
    for (uint64_t seed = 1; seed < 20 && !differs; seed++) {
        assert_int_equal(sg_split_subjects_holdout(&again, &held2, &n_held2, subj, N, 0.2, seed), 0);
        differs = memcmp(held, held2, 2 * sizeof *held) != 0;
        sg_split_free(&again);
        free(held2);
    }
    assert_true(differs);
    sg_split_free(&s);
    free(held);
    /* at least one subject held out, at least one left to train on */
    assert_int_equal(sg_split_subjects_holdout(&s, &held, &n_held, subj, N, 0.01, 1), 0);
    assert_int_equal(n_held, 1);
    sg_split_free(&s);
    free(held);
    assert_int_equal(sg_split_subjects_holdout(&s, &held, &n_held, subj, N, 0.99, 1), 0);
    assert_int_equal(n_held, 7);
    sg_split_free(&s);
    free(held);
    /* one subject only: no subject-wise split possible */
    for (int i = 0; i < N; i++)
        subj[i] = 3;
    assert_int_equal(sg_split_subjects_holdout(&s, &held, &n_held, subj, N, 0.2, 1), SG_E_INVALID);
    assert_null(held);
}

static void test_kfold(void **state)
{
    (void)state;
    enum { N = 103, K = 10 };
    int count[N] = {0};
    sg_split first;
    for (int f = 0; f < K; f++) {
        sg_split s;
        assert_int_equal(sg_split_kfold(&s, N, K, f, 5), 0);
        assert_partition(&s, N);
        /* sizes 11,11,11,10,...: n % k folds get one more */
        assert_int_equal(s.n_valid, f < N % K ? N / K + 1 : N / K);
        for (size_t i = 0; i < s.n_valid; i++)
            count[s.valid[i]]++;
        if (f == 0)
            first = s;
        else
            sg_split_free(&s);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(count[i], 1);   /* folds partition the data */
    sg_split again;
    assert_int_equal(sg_split_kfold(&again, N, K, 0, 5), 0);
    assert_true(same_split(&first, &again));
    sg_split_free(&again);
    assert_int_equal(sg_split_kfold(&again, N, K, 0, 6), 0);
    assert_false(same_split(&first, &again));
    sg_split_free(&again);
    sg_split_free(&first);
    assert_int_equal(sg_split_kfold(&again, N, 1, 0, 5), SG_E_INVALID);
    assert_int_equal(sg_split_kfold(&again, N, K, K, 5), SG_E_INVALID);
}

static void test_flags_and_parse(void **state)
{
    (void)state;
    const unsigned char flags[5] = {0, 1, 0, 0, 1};
    sg_split s;
    assert_int_equal(sg_split_flags(&s, flags, 5), 0);
    assert_int_equal(s.n_valid, 2);
    assert_int_equal(s.valid[0], 1);
    assert_int_equal(s.valid[1], 4);
    assert_int_equal(s.train[2], 3);
    sg_split_free(&s);
    int *v;
    size_t n;
    assert_int_equal(sg_parse_int_list(&v, &n, "7,8"), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0], 7);
    assert_int_equal(v[1], 8);
    free(v);
    assert_int_equal(sg_parse_int_list(&v, &n, "7,x"), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "column 3"));
    assert_int_equal(sg_parse_int_list(&v, &n, ""), SG_E_INVALID);
    assert_int_equal(sg_parse_int_list(&v, &n, "1,,2"), SG_E_INVALID);
}

/* --bs auto: a tenth of the training split as a power of two in [8, 64],
 * lowered for images that cost a ResNet more than DSA's 30 x 125 stack
 * (rows counted as at least 16). */
static void test_budget_batch(void **state)
{
    (void)state;
    assert_int_equal(job_budget_batch(40, 6, 100), 8);       /* BasicMotions */
    assert_int_equal(job_budget_batch(180, 24, 51), 16);     /* NATOPS */
    assert_int_equal(job_budget_batch(5700, 30, 125), 64);   /* DSA's stack: the reference */
    assert_int_equal(job_budget_batch(5700, 45, 125), 32);   /* 1.5 times: cap 42 */
    assert_int_equal(job_budget_batch(475, 45, 364), 8);     /* 4.4 times: cap 14 */
    assert_int_equal(job_budget_batch(475, 0, 0), 32);       /* no image cost known */
    assert_int_equal(job_budget_batch(5700, 45, 25), 64);    /* cheaper than the reference */
    assert_int_equal(job_budget_batch(2000, 6, 1024), 8);    /* thin counts as 16 rows */
    assert_int_equal(job_budget_batch(5, 30, 125), 5);       /* never above the split */

    /* The cap applies where the step budget sets the length ... */
    job_opts o;
    memset(&o, 0, sizeof o);
    o.train_steps = 1500;
    o.epochs = 1;
    assert_int_equal(job_budget_resolve(&o, 475, 45, 364, 0), SG_OK);
    assert_int_equal(o.batch_size, 8);
    assert_int_equal(o.epochs, 26); /* 59 steps an epoch */
    /* ... not where epochs do: 3 epochs of 4,560 at 64 already pass 200 steps */
    memset(&o, 0, sizeof o);
    o.train_steps = 200;
    o.epochs = 3;
    assert_int_equal(job_budget_resolve(&o, 4560, 45, 125, 0), SG_OK);
    assert_int_equal(o.batch_size, 64);
    assert_int_equal(o.epochs, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_stratified),
        cmocka_unit_test(test_subjects_and_loso),
        cmocka_unit_test(test_subjects_holdout),
        cmocka_unit_test(test_kfold),
        cmocka_unit_test(test_flags_and_parse),
        cmocka_unit_test(test_budget_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
