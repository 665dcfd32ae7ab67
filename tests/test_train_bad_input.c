/* test_train_bad_input.c - the model commands on bad input, through the
 * binary (SG_BIN): each case asserts the exit status and the one-line
 * message, and that nothing partial is left behind.
 *
 * Fixtures are tiny PNG class folders written with the library's own PNG
 * writer; the few real trainings use 8x8 images on a ResNet18 (seconds).
 */
#include "tests/sg_run.h"

#include "src/image/png_io.h"
#include "models/sg_model.h"

/* Training needs libtorch; a NO_TORCH build only checks option errors. */
#define REQUIRE_TORCH()                                                                   \
    do {                                                                                  \
        if (!sg_torch_available()) {                                                      \
            print_message("SKIP: built without libtorch (NO_TORCH=1)\n");               \
            skip();                                                                       \
        }                                                                                 \
    } while (0)

typedef struct fx {
    char *tmp;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->tmp = sg_test_tmpdir();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    sg_test_rmtree(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

/* Writes a gray h x w PNG of deterministic noise (brighter for class 1
 * so that the two classes are learnable). */
static void write_png(const char *path, int h, int w, int cls, int seed)
{
    float *px = malloc((size_t)h * (size_t)w * sizeof *px);
    assert_non_null(px);
    unsigned s = (unsigned)seed * 2654435761u + 1u;
    for (int i = 0; i < h * w; i++) {
        s = s * 1103515245u + 12345u;
        px[i] = 0.5f * (float)((s >> 16) & 0x7fff) / 32767.0f + (cls ? 0.5f : 0.0f);
    }
    assert_int_equal(sg_png_write(path, px, 1, h, w, 8), 0);
    free(px);
}

/* ROOT/a/N.png and ROOT/b/N.png, n per class, h x w. */
static void make_classes(const char *root, int n, int h, int w)
{
    char p[4400];
    for (int c = 0; c < 2; c++) {
        snprintf(p, sizeof p, "%s/%c", root, 'a' + c);
        assert_int_equal(mkdir(root, 0755) == 0 || sg_test_path_exists(root), 1);
        assert_int_equal(mkdir(p, 0755), 0);
        for (int i = 0; i < n; i++) {
            snprintf(p, sizeof p, "%s/%c/%d.png", root, 'a' + c, i);
            write_png(p, h, w, c, c * 1000 + i);
        }
    }
}

static void test_empty_dataset(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char dir[4300], *out;
    snprintf(dir, sizeof dir, "%s/empty", f->tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    int rc = sg_test_run(&out, NULL, "train '%s' --pretrained none --out '%s/run' --no-progress",
                         dir, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "sensorgram train: ");
    SG_ASSERT_CONTAINS(out, dir);
    SG_ASSERT_CONTAINS(out, "no class folders");
    free(out);
}

static void test_one_class(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char dir[4300], p[4400], *out;
    snprintf(dir, sizeof dir, "%s/one", f->tmp);
    snprintf(p, sizeof p, "%s/only", dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(mkdir(p, 0755), 0);
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/only/%d.png", dir, i);
        write_png(p, 8, 8, 0, i);
    }
    int rc = sg_test_run(&out, NULL, "train '%s' --pretrained none --out '%s/run1' --no-progress",
                         dir, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "only one class (only) found; training needs at least two");
    free(out);
}

static void test_truncated_image(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char dir[4300], p[4400], *out;
    snprintf(dir, sizeof dir, "%s/trunc", f->tmp);
    make_classes(dir, 4, 8, 8);
    /* Cut a PNG in half: the decoder must name it. */
    snprintf(p, sizeof p, "%s/b/2.png", dir);
    FILE *fp = fopen(p, "r+b");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fclose(fp);
    assert_int_equal(truncate(p, n / 2), 0);
    int rc = sg_test_run(&out, NULL,
                         "train '%s' --pretrained none --arch resnet18 --epochs 1 --bs 4 "
                         "--image-size 8 --valid-pct 0 --out '%s/run2' --no-progress",
                         dir, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, p);
    SG_ASSERT_CONTAINS(out, "truncated");
    free(out);
}

static void test_mixed_sizes(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char dir[4300], p[4400], *out;
    snprintf(dir, sizeof dir, "%s/mixed", f->tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    /* An encoded folder (manifest): sensor images keep their size unless
     * --image-size asks for a resize. */
    snprintf(p, sizeof p, "%s/manifest.csv", dir);
    FILE *m = fopen(p, "w");
    assert_non_null(m);
    fprintf(m, "path,label\n");
    for (int i = 0; i < 6; i++) {
        int big = i == 5;
        snprintf(p, sizeof p, "%s/%d.png", dir, i);
        write_png(p, big ? 10 : 8, big ? 10 : 8, i % 2, i);
        fprintf(m, "%d.png,%s\n", i, i % 2 ? "up" : "down");
    }
    fclose(m);
    int rc = sg_test_run(&out, NULL,
                         "train '%s' --pretrained none --arch resnet18 --epochs 1 --bs 2 "
                         "--valid-pct 0 --out '%s/run3' --no-progress",
                         dir, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "5.png");
    SG_ASSERT_CONTAINS(out, "image is 10x10 but the pipeline expects 8x8 (no resize)");
    free(out);
    rc = sg_test_run(&out, NULL,
                     "train '%s' --pretrained none --arch resnet18 --epochs 1 --bs 2 "
                     "--image-size 8 --valid-pct 0 --out '%s/run3b' --no-progress",
                     dir, f->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
}

/* One tiny finished run shared by the checkpoint cases. */
static void tiny_run(const fx *f, const char *run, const char *data)
{
    char *out;
    if (sg_test_path_exists(run))
        return;
    if (!sg_test_path_exists(data))
        make_classes(data, 6, 8, 8);
    int rc = sg_test_run(&out, NULL,
                         "train '%s' --pretrained none --arch resnet18 --epochs 1 --bs 4 "
                         "--image-size 8 --out '%s' --no-progress",
                         data, run);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    (void)f;
}

static void test_checkpoint_cases(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char run[4300], data[4300], bogus[4300], *out;
    snprintf(run, sizeof run, "%s/tiny", f->tmp);
    snprintf(data, sizeof data, "%s/tinydata", f->tmp);
    tiny_run(f, run, data);

    /* Another architecture than the checkpoint's. */
    int rc = sg_test_run(&out, NULL, "eval --arch resnet34 '%s/best.safetensors' '%s' -o '%s/ev'",
                         run, data, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "checkpoint of architecture resnet18, not resnet34");
    free(out);
    rc = sg_test_run(&out, NULL,
                     "train '%s' --pretrained none --arch resnet34 --epochs 1 --image-size 8 "
                     "--resume --out '%s' --no-progress",
                     data, run);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "nothing to resume: run finished at epoch 1");
    free(out);

    /* Not a checkpoint at all. */
    snprintf(bogus, sizeof bogus, "%s/bogus.safetensors", f->tmp);
    FILE *b = fopen(bogus, "wb");
    assert_non_null(b);
    fputs("this is not a safetensors file", b);
    fclose(b);
    rc = sg_test_run(&out, NULL, "predict '%s' '%s' -o '%s/p.csv'", bogus, data, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, bogus);
    free(out);
    char p[4400];
    snprintf(p, sizeof p, "%s/p.csv", f->tmp);
    assert_false(sg_test_path_exists(p));
}

static void test_nan_loss(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char data[4300], *out;
    snprintf(data, sizeof data, "%s/nandata", f->tmp);
    make_classes(data, 16, 8, 8);
    /* AdamW with lr 100 and weight decay 10 multiplies the weights by
     * about -1000 per step: they overflow to inf and the loss to NaN. */
    int rc = sg_test_run(&out, NULL,
                         "train '%s' --pretrained none --arch resnet18 --epochs 3 --bs 2 "
                         "--image-size 8 --lr 100 --wd 10 --out '%s/nanrun' --no-progress",
                         data, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "sensorgram train: loss is NaN at step ");
    SG_ASSERT_CONTAINS(out, " (lr ");
    free(out);
}

static void test_disk_full_keeps_checkpoint(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char run[4300], data[4300], *out, cmd[9000];
    snprintf(run, sizeof run, "%s/tiny", f->tmp);
    snprintf(data, sizeof data, "%s/tinydata", f->tmp);
    tiny_run(f, run, data);
    snprintf(cmd, sizeof cmd, "cp '%s/last.safetensors' '%s/last.copy'", run, f->tmp);
    assert_int_equal(system(cmd), 0);
    /* A file-size limit makes every large write fail like a full disk
     * (EFBIG instead of ENOSPC; SIGXFSZ ignored so write() reports it). */
    int rc = sg_test_run(&out, "trap '' XFSZ; ulimit -f 512;",
                         "train '%s' --pretrained none --arch resnet18 --epochs 1 --bs 4 "
                         "--image-size 8 --seed 3 --out '%s' --no-progress",
                         data, run);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "checkpoint");
    SG_ASSERT_CONTAINS(out, "write failed");
    free(out);
    snprintf(cmd, sizeof cmd, "cmp -s '%s/last.safetensors' '%s/last.copy'", run, f->tmp);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q '\\.tmp'", run);
    assert_int_not_equal(system(cmd), 0); /* no temporary file left behind */
}

static void test_usage_errors(void **state)
{
    fx *f = *state;
    char *out;
    int rc = sg_test_run(&out, NULL, "train --lr abc '%s'", f->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--lr: 'abc' is not a number");
    free(out);
    rc = sg_test_run(&out, NULL, "train --cv bogus '%s'", f->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--cv: unknown value 'bogus'");
    free(out);
    rc = sg_test_run(&out, NULL, "eval --epochs 3 a b");
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "option --epochs does not apply to eval");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_empty_dataset),
        cmocka_unit_test(test_one_class),
        cmocka_unit_test(test_truncated_image),
        cmocka_unit_test(test_mixed_sizes),
        cmocka_unit_test(test_checkpoint_cases),
        cmocka_unit_test(test_nan_loss),
        cmocka_unit_test(test_disk_full_keeps_checkpoint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
