/* test_encode_shard.c - `encode --shard I/N` and `encode --merge` through
 * the binary on 240 DSA segments (activities 1-4 of subject 1).
 *
 * Checks: shards 0/2 and 1/2 written into one folder merge by themselves
 * into a manifest.csv byte-identical to one `encode` (and the images are
 * identical too); an explicit --merge of 3 parts given out of order does
 * the same; merging with a part missing, a part of another job, a part
 * given twice, or an image gone fails with exit 1 naming the file, and
 * bad --shard values are usage errors.  Skips without the DSA data.
 */
#include "tests/sg_run.h"

typedef struct fx {
    char *tmp;
    char data[4200];
} fx;

static int setup(void **state)
{
    fx *e = calloc(1, sizeof *e);
    assert_non_null(e);
    e->tmp = sg_test_tmpdir();
    snprintf(e->data, sizeof e->data, "%s/dsa", e->tmp);
    if (sg_test_dsa_subset(e->data, "a01 a02 a03 a04", "p1") != 0)
        e->data[0] = '\0';
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    fx *e = *state;
    sg_test_rmtree(e->tmp);
    free(e->tmp);
    free(e);
    return 0;
}

#define REQUIRE_DATA(e) SG_REQUIRE_DSA((e)->data)

/* gray with the dataset scope: a fitted encoder, so every shard must fit
 * on all inputs for the images to match. */
#define ENC "--dataset dsa '%s' --sensors acc --encoder gray -q"

static void encode_into(fx *e, const char *dir, const char *extra)
{
    char *out = NULL;
    int rc = sg_test_run(&out, NULL, "encode " ENC " %s -o '%s/%s'", e->data, extra, e->tmp, dir);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
}

static void assert_same_file(const char *a, const char *b)
{
    char *x = sg_test_slurp(a), *y = sg_test_slurp(b);
    if (!x || !y || strcmp(x, y) != 0) {
        print_error("%s and %s differ (or one is missing)\n", a, b);
        fail();
    }
    assert_true(strlen(x) > 1000); /* 240 rows */
    free(x);
    free(y);
}

static void test_two_shards_merge_by_themselves(void **state)
{
    fx *e = *state;
    REQUIRE_DATA(e);
    encode_into(e, "one", "");
    encode_into(e, "sharded", "--shard 1/2");
    char p[4500], q[4500];
    snprintf(p, sizeof p, "%s/sharded/manifest.csv", e->tmp);
    assert_false(sg_test_path_exists(p)); /* one part is not the whole */
    encode_into(e, "sharded", "--shard 0/2");
    snprintf(q, sizeof q, "%s/one/manifest.csv", e->tmp);
    assert_same_file(q, p);
    /* The images too (the folders differ only by the part files). */
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "diff -r -x 'manifest.part-*' '%s/one' '%s/sharded' >/dev/null",
             e->tmp, e->tmp);
    assert_int_equal(system(cmd), 0);
}

static void test_explicit_merge_and_its_errors(void **state)
{
    fx *e = *state;
    REQUIRE_DATA(e);
    /* The unsharded reference: the test above's (encoded here when run alone). */
    char one[4500];
    snprintf(one, sizeof one, "%s/one/manifest.csv", e->tmp);
    if (!sg_test_path_exists(one))
        encode_into(e, "one", "");
    encode_into(e, "three", "--shard 2/3");
    encode_into(e, "three", "--shard 0/3");
    char *out = NULL;
    char d[4400];
    snprintf(d, sizeof d, "%s/three", e->tmp);
    /* A part missing: no manifest, exit 1 naming the count. */
    int rc = sg_test_run(&out, NULL, "encode --merge '%s' '%s/manifest.part-0-of-3.csv' "
                         "'%s/manifest.part-2-of-3.csv'", d, d, d);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "part of 3 shards, but 2 parts were given");
    free(out);
    /* Given twice. */
    rc = sg_test_run(&out, NULL, "encode --merge '%s' '%s/manifest.part-0-of-3.csv' "
                     "'%s/manifest.part-2-of-3.csv' '%s/manifest.part-0-of-3.csv'", d, d, d, d);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "shard 0/3 given twice");
    free(out);
    char m[4500];
    snprintf(m, sizeof m, "%s/manifest.csv", d);
    assert_false(sg_test_path_exists(m));
    encode_into(e, "three", "--shard 1/3"); /* completes: merges itself */
    assert_same_file(one, m);
    assert_int_equal(unlink(m), 0);
    /* Out of order on the command line: the same bytes. */
    rc = sg_test_run(&out, NULL, "encode --merge '%s' '%s/manifest.part-2-of-3.csv' "
                     "'%s/manifest.part-0-of-3.csv' '%s/manifest.part-1-of-3.csv'", d, d, d, d);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "merged 3 parts, 240 rows");
    free(out);
    assert_same_file(one, m);
    /* A part of another job (other sensors): refused. */
    char other[4400];
    snprintf(other, sizeof other, "%s/other", e->tmp);
    rc = sg_test_run(&out, NULL, "encode --dataset dsa '%s' --sensors gyro --encoder gray -q "
                     "--shard 1/3 -o '%s'", e->data, other);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    rc = sg_test_run(&out, NULL, "encode --merge '%s' '%s/manifest.part-0-of-3.csv' "
                     "'%s/manifest.part-1-of-3.csv' '%s/manifest.part-2-of-3.csv'", d, d, other,
                     d);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "of another job");
    free(out);
    /* An image gone: refused, naming it. */
    char img[4600];
    snprintf(img, sizeof img, "%s/sitting/a01_p1_s02.png", d);
    assert_int_equal(unlink(img), 0);
    rc = sg_test_run(&out, NULL, "encode --merge '%s' '%s'/manifest.part-*-of-3.csv", d, d);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "image sitting/a01_p1_s02.png is not under");
    free(out);
}

static void test_bad_shard_is_usage(void **state)
{
    fx *e = *state;
    REQUIRE_DATA(e);
    const char *bad[] = {"2/2", "-1/2", "1/2x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = NULL;
        int rc = sg_test_run(&out, NULL, "encode " ENC " --shard %s -o '%s/bad'", e->data, bad[i],
                             e->tmp);
        SG_ASSERT_EXIT(rc, 2, out);
        SG_ASSERT_CONTAINS(out, "--shard");
        free(out);
    }
    char *out = NULL;
    int rc = sg_test_run(&out, NULL, "encode --merge '%s/bad'", e->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_shards_merge_by_themselves),
        cmocka_unit_test(test_explicit_merge_and_its_errors),
        cmocka_unit_test(test_bad_shard_is_usage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
