/* test_train_bad_input.c - the model commands on bad input, through the
 * binary (SG_BIN): each case asserts the exit status and the one-line
 * message, and that nothing partial is left behind.
 *
 * Fixtures are tiny PNG class folders written with the library's own PNG
 * writer; the few real trainings use 8x8 images on a ResNet18 (seconds).
 */
#include "tests/sg_run.h"

#include "src/image/png_io.h"
#include "models/safetensors.h"
#include "models/sg_model.h"

#include <math.h>
#include <nettle/sha2.h>
#include <turbojpeg.h>

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

/* The default DSA ensemble on a root that is not there: one line, and no
 * empty RUN_DIR left behind (its first member fails before training). */
static void test_missing_dsa_root_leaves_no_run(void **state)
{
    fx *f = *state;
    char run[4300], *out;
    snprintf(run, sizeof run, "%s/dsa_run", f->tmp);
    int rc = sg_test_run(&out, NULL, "train --dataset dsa '%s/nowhere' --out '%s' -q", f->tmp,
                         run);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "cannot open DSA root");
    assert_false(sg_test_path_exists(run));
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
    /* Where it diverges (a NaN step, or non-finite outputs at validation)
     * depends on the platform's float details; either way it is named. */
    if (!strstr(out, "sensorgram train: loss is NaN at step ") &&
        !strstr(out, "the run diverged"))
        fail_msg("no divergence message in:\n%s", out);
    free(out);
    /* No poisoned checkpoint: either none (and no half-made run folder),
     * or one from an epoch that was still finite, which predicts numbers. */
    char p[4400];
    snprintf(p, sizeof p, "%s/nanrun/last.safetensors", f->tmp);
    if (!sg_test_path_exists(p)) {
        snprintf(p, sizeof p, "%s/nanrun", f->tmp);
        assert_false(sg_test_path_exists(p));
        return;
    }
    rc = sg_test_run(&out, NULL, "predict '%s' '%s/a/0.png' -o '%s/nan.csv'", p, data, f->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    snprintf(p, sizeof p, "%s/nan.csv", f->tmp);
    char *csv = sg_test_slurp(p);
    assert_non_null(csv);
    assert_null(strstr(csv, "nan"));
    free(csv);
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
                         "--image-size 8 --seed 3 --out '%s' --overwrite --no-progress",
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

/* ---- issue 10: never lose a run, never trust a broken one ---------------- */

/* Byte-compares two files. */
static int same_file(const char *a, const char *b)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

static void copy_file(const char *from, const char *to)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

static int has_temporaries(const char *dir)
{
    char cmd[4500];
    snprintf(cmd, sizeof cmd, "test -n \"$(find '%s' -name '.*.tmp*')\"", dir);
    return system(cmd) == 0;
}

/* Changes checkpoint path in place: flips one bit of fc.weight's first
 * value (nan = 0), or makes it NaN and rewrites the stored SHA-256 so
 * that only the finiteness check can catch it (nan = 1). */
static void tamper_checkpoint(const char *path, int nan)
{
    sg_st_file f;
    assert_int_equal(sg_st_open(&f, path), 0);
    const sg_st_tensor *t = sg_st_find(&f, "fc.weight");
    assert_non_null(t);
    uint64_t begin = t->begin;
    sg_st_close(&f);
    char *buf = NULL;
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    buf[n] = '\0';
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | (unsigned char)buf[i];
    unsigned char *data = (unsigned char *)buf + 8 + hlen;
    size_t data_size = (size_t)n - 8 - (size_t)hlen;
    if (!nan) {
        data[begin + 1] ^= 0x10;
    } else {
        float v = NAN;
        memcpy(data + begin, &v, sizeof v);
        /* the stored hash: "sha256":"<64 hex>" in the header */
        char *h = strstr(buf + 8, "\"sha256\":\"");
        assert_non_null(h);
        h += strlen("\"sha256\":\"");
        struct sha256_ctx ctx;
        uint8_t d[SHA256_DIGEST_SIZE];
        sha256_init(&ctx);
        sha256_update(&ctx, data_size, data);
        sha256_digest(&ctx, sizeof d, d);
        char hex[65];
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", d[i]);
        memcpy(h, hex, 64);
    }
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, (size_t)n, fp), (size_t)n);
    assert_int_equal(fclose(fp), 0);
    free(buf);
}

/* Item 2: a finished run is never trained over without being asked. */
static void test_existing_run_refused(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char run[4300], data[4300], p[4400], q[4400], *out;
    snprintf(run, sizeof run, "%s/tiny", f->tmp);
    snprintf(data, sizeof data, "%s/tinydata", f->tmp);
    tiny_run(f, run, data);
    snprintf(p, sizeof p, "%s/last.safetensors", run);
    snprintf(q, sizeof q, "%s/last.keep", f->tmp);
    copy_file(p, q);
    snprintf(p, sizeof p, "%s/metrics.csv", run);
    snprintf(q, sizeof q, "%s/metrics.keep", f->tmp);
    copy_file(p, q);
    int rc = sg_test_run(&out, NULL,
                         "train '%s' --pretrained none --arch resnet18 --epochs 1 --bs 4 "
                         "--image-size 8 --out '%s' --no-progress",
                         data, run);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "already holds files (an earlier run?): --resume continues it, "
                            "--overwrite replaces it, or choose another --out");
    free(out);
    assert_true(same_file(p, q)); /* metrics.csv untouched */
    snprintf(p, sizeof p, "%s/last.safetensors", run);
    snprintf(q, sizeof q, "%s/last.keep", f->tmp);
    assert_true(same_file(p, q));

    /* --overwrite replaces the run's files and nothing else. */
    char run2[4400], cmd[9000];
    snprintf(run2, sizeof run2, "%s/tiny2", f->tmp);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s' && echo mine > '%s/notes.txt' && "
                              "touch '%s/fold_7/x' 2>/dev/null; mkdir -p '%s/top_losses' && "
                              "echo old > '%s/top_losses/99.png'",
             run, run2, run2, run2, run2, run2);
    assert_int_equal(system(cmd), 0);
    rc = sg_test_run(&out, NULL,
                     "train '%s' --pretrained none --arch resnet18 --epochs 1 --bs 4 "
                     "--image-size 8 --seed 5 --out '%s' --overwrite --no-progress",
                     data, run2);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    snprintf(p, sizeof p, "%s/notes.txt", run2);
    assert_true(sg_test_path_exists(p));
    snprintf(p, sizeof p, "%s/top_losses/99.png", run2); /* the old run's, not rewritten */
    assert_false(sg_test_path_exists(p));
    snprintf(p, sizeof p, "%s/last.safetensors", run2);
    assert_false(same_file(p, q)); /* a new checkpoint (another seed) */
    rc = sg_test_run(&out, NULL, "train '%s' --out '%s' --resume --overwrite", data, run2);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--resume and --overwrite exclude each other");
    free(out);
}

/* Items 1 and 7: damaged or non-finite checkpoints are refused by name. */
static void test_broken_checkpoints(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char run[4300], data[4300], ck[4400], ev[4400], p[4500], *out;
    snprintf(run, sizeof run, "%s/tiny", f->tmp);
    snprintf(data, sizeof data, "%s/tinydata", f->tmp);
    tiny_run(f, run, data);
    snprintf(p, sizeof p, "%s/last.safetensors", run);
    /* a flipped bit inside a tensor */
    snprintf(ck, sizeof ck, "%s/flipped.safetensors", f->tmp);
    copy_file(p, ck);
    tamper_checkpoint(ck, 0);
    int rc = sg_test_run(&out, NULL, "predict '%s' '%s' -o '%s/p1.csv'", ck, data, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, ck);
    SG_ASSERT_CONTAINS(out, "checksum mismatch: the tensor data is damaged");
    free(out);
    snprintf(p, sizeof p, "%s/p1.csv", f->tmp);
    assert_false(sg_test_path_exists(p));
    /* a NaN weight with a matching checksum (a diverged run of old) */
    snprintf(p, sizeof p, "%s/last.safetensors", run);
    snprintf(ck, sizeof ck, "%s/nan.safetensors", f->tmp);
    copy_file(p, ck);
    tamper_checkpoint(ck, 1);
    rc = sg_test_run(&out, NULL, "predict '%s' '%s' -o '%s/p2.csv'", ck, data, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "tensor 'fc.weight' holds NaN or Inf");
    free(out);
    snprintf(p, sizeof p, "%s/p2.csv", f->tmp);
    assert_false(sg_test_path_exists(p));
    snprintf(ev, sizeof ev, "%s/ev_nan", f->tmp);
    rc = sg_test_run(&out, NULL, "eval '%s' '%s' -o '%s'", ck, data, ev);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "holds NaN or Inf");
    free(out);
    snprintf(p, sizeof p, "%s/predictions.csv", ev);
    assert_false(sg_test_path_exists(p));
    snprintf(p, sizeof p, "%s/confusion_matrix.csv", ev);
    assert_false(sg_test_path_exists(p));
    /* the intact checkpoint still loads (the checks do not cry wolf) */
    rc = sg_test_run(&out, NULL, "predict '%s/last.safetensors' '%s' -o '%s/p3.csv'", run, data,
                     f->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    snprintf(p, sizeof p, "%s/p3.csv", f->tmp);
    char *csv = sg_test_slurp(p);
    assert_non_null(csv);
    assert_null(strstr(csv, "nan"));
    free(csv);
}

/* Item 14 and 15: a file of another kind, another --arch, alike everywhere. */
static void test_wrong_file_kinds(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char run[4300], data[4300], img[4400], *out;
    snprintf(run, sizeof run, "%s/tiny", f->tmp);
    snprintf(data, sizeof data, "%s/tinydata", f->tmp);
    tiny_run(f, run, data);
    snprintf(img, sizeof img, "%s/a/0.png", data);
    int rc = sg_test_run(&out, NULL, "predict '%s' '%s' -o '%s/k.csv'", img, img, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "0.png is a PNG image, not a checkpoint");
    free(out);
    rc = sg_test_run(&out, NULL, "eval '%s' '%s' -o '%s/kev'", img, data, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "0.png is a PNG image, not a checkpoint");
    free(out);
    /* predict --arch is checked as eval checks it */
    rc = sg_test_run(&out, NULL, "predict --arch resnet50 '%s/last.safetensors' '%s' -o '%s/k.csv'",
                     run, img, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "checkpoint of architecture resnet18, not resnet50");
    free(out);
    /* bare weights of another depth: the file's architecture is named */
    rc = sg_test_run(&out, NULL,
                     "predict --arch resnet34 --weights '%s/last.safetensors' '%s' -o '%s/k.csv'",
                     run, img, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "is missing: the file holds resnet18 weights (pass --arch resnet18)");
    free(out);
    char p[4500];
    snprintf(p, sizeof p, "%s/k.csv", f->tmp);
    assert_false(sg_test_path_exists(p));
}

/* Items 11 and 12: sizes that cannot train are refused before training. */
static void test_sizes_checked_up_front(void **state)
{
    fx *f = *state;
    char data[4300], two[4300], p[4400], *out;
    snprintf(data, sizeof data, "%s/sizedata", f->tmp);
    make_classes(data, 6, 8, 8);
    const char *common = "--pretrained none --arch resnet18 --image-size 8 --no-progress";
    int rc = sg_test_run(&out, NULL, "train '%s' %s --bs 1 --out '%s/s1'", data, common, f->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--bs 1: training batches need at least 2 samples");
    free(out);
    rc = sg_test_run(&out, NULL, "train '%s' %s --epochs 0 --out '%s/s2'", data, common, f->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--epochs 0 trains nothing");
    free(out);
    snprintf(p, sizeof p, "%s/s2", f->tmp);
    assert_false(sg_test_path_exists(p));
    REQUIRE_TORCH();
    rc = sg_test_run(&out, NULL, "train '%s' %s --epochs 1 --valid-pct 0.01 --out '%s/s3'", data,
                     common, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "--valid-pct 0.01 of 12 samples gives no validation sample");
    free(out);
    snprintf(p, sizeof p, "%s/s3", f->tmp);
    assert_false(sg_test_path_exists(p)); /* nothing half-made left, a rerun needs no flag */
    /* one training sample: two images, one of them validation */
    snprintf(two, sizeof two, "%s/two", f->tmp);
    make_classes(two, 1, 8, 8);
    rc = sg_test_run(&out, NULL, "train '%s' %s --epochs 1 --valid-pct 0.5 --out '%s/s4'", two,
                     common, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "the training set has 1 sample; training needs at least 2");
    free(out);
}

/* Item 16: regex and flat folders. */
static void test_label_regex_and_flat_folder(void **state)
{
    fx *f = *state;
    char flat[4300], p[4400], *out;
    int rc = sg_test_run(&out, NULL, "train --label-regex '([a-z' '%s'", f->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--label-regex: '([a-z' is not a valid regular expression");
    free(out);
    REQUIRE_TORCH();
    snprintf(flat, sizeof flat, "%s/flat", f->tmp);
    assert_int_equal(mkdir(flat, 0755), 0);
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s.%d.png", flat, i % 2 ? "dog" : "cat", i);
        write_png(p, 8, 8, i % 2, i);
    }
    rc = sg_test_run(&out, NULL, "train '%s' --pretrained none --out '%s/flatrun' --no-progress",
                     flat, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "no class folders");
    SG_ASSERT_CONTAINS(out, "use --label-regex");
    free(out);
}

/* Item 4: a folder encode left unfinished is not photos. */
static void test_unfinished_encode_folder(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char data[4300], p[4400], *out;
    snprintf(data, sizeof data, "%s/halfenc", f->tmp);
    make_classes(data, 4, 8, 8);
    /* what `encode` leaves when killed: the marker, images, no manifest */
    snprintf(p, sizeof p, "%s/.sensorgram-encoding", data);
    FILE *m = fopen(p, "w");
    assert_non_null(m);
    fputs("x\n", m);
    fclose(m);
    const char *common = "--pretrained none --arch resnet18 --image-size 8 --epochs 1 --bs 4 "
                         "--no-progress";
    int rc = sg_test_run(&out, NULL, "train '%s' %s --out '%s/he1'", data, common, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "an encode folder without manifest.csv is not a finished run");
    SG_ASSERT_CONTAINS(out, "--photos");
    free(out);
    rc = sg_test_run(&out, NULL, "train '%s' %s --photos --out '%s/he2'", data, common, f->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
}

/* Items 3 and 5: Ctrl-C stops cleanly and says how to go on; --resume
 * refuses other data or options before any step. */
static void test_interrupt_and_resume_guard(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char data[4300], run[4300], p[4400], keep[4400], *out;
    snprintf(data, sizeof data, "%s/intdata", f->tmp);
    snprintf(run, sizeof run, "%s/introot", f->tmp);
    make_classes(data, 6, 8, 8);
    const char *common = "--pretrained none --arch resnet18 --image-size 8 --bs 4 -j 1 "
                         "--threads 1 --no-progress";
    /* SIGINT once the first checkpoint is whole (atomic rename). */
    /* "( BIN ... & ...; wait $p )": the output of the background train is captured */
    int rc = sg_test_run(&out, "(",
                         "train '%s' %s --epochs 500 --out '%s' & p=$!; "
                         "while [ ! -f '%s/last.safetensors' ]; do sleep 0.1; done; "
                         "kill -INT $p; wait $p )",
                         data, common, run, run);
    SG_ASSERT_EXIT(rc, 130, out);
    SG_ASSERT_CONTAINS(out, "sensorgram train: interrupted after epoch ");
    SG_ASSERT_CONTAINS(out, "`--resume --out ");
    SG_ASSERT_CONTAINS(out, "interrupted by SIGINT");
    free(out);
    assert_false(has_temporaries(run));
    snprintf(p, sizeof p, "%s/last.safetensors", run);
    snprintf(keep, sizeof keep, "%s/int.keep", f->tmp);
    copy_file(p, keep);
    /* another learning rate */
    rc = sg_test_run(&out, NULL, "train '%s' %s --epochs 500 --lr 0.01 --resume --out '%s'", data,
                     common, run);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "--resume: lr is 0.001 in ");
    SG_ASSERT_CONTAINS(out, "but 0.01 now");
    free(out);
    /* another image size */
    rc = sg_test_run(&out, NULL,
                     "train '%s' --pretrained none --arch resnet18 --image-size 16 --bs 4 -j 1 "
                     "--threads 1 --no-progress --epochs 500 --resume --out '%s'",
                     data, run);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "--resume: input is 3x8x8 in ");
    free(out);
    /* a third class folder */
    snprintf(p, sizeof p, "%s/c", data);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/c/0.png", data);
    write_png(p, 8, 8, 1, 77);
    rc = sg_test_run(&out, NULL, "train '%s' %s --epochs 500 --resume --out '%s'", data, common,
                     run);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "--resume: classes is [\"a\",\"b\"] in ");
    free(out);
    /* another file in place of one (same count, same classes) */
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "rm -r '%s/c' && mv '%s/b/0.png' '%s/b/zz.png'", data, data, data);
    assert_int_equal(system(cmd), 0);
    rc = sg_test_run(&out, NULL, "train '%s' %s --epochs 500 --resume --out '%s'", data, common,
                     run);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "--resume: the sample list (names or labels) differs from the run");
    free(out);
    snprintf(p, sizeof p, "%s/last.safetensors", run);
    assert_true(same_file(p, keep)); /* refusals touched nothing */
    /* a plain rerun is refused: the interrupted run is the user's */
    snprintf(cmd, sizeof cmd, "mv '%s/b/zz.png' '%s/b/0.png'", data, data);
    assert_int_equal(system(cmd), 0);
    rc = sg_test_run(&out, NULL, "train '%s' %s --epochs 500 --out '%s'", data, common, run);
    SG_ASSERT_EXIT(rc, 2, out);
    free(out);
}

/* Item 10: every unreadable input is listed before training starts;
 * --on-error skip leaves them out. */
static void test_unreadable_inputs_up_front(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char data[4300], p1[4400], p2[4400], run[4400], *out;
    snprintf(data, sizeof data, "%s/baddata", f->tmp);
    make_classes(data, 5, 8, 8);
    snprintf(p1, sizeof p1, "%s/a/1.png", data);
    assert_int_equal(truncate(p1, 60), 0);
    snprintf(p2, sizeof p2, "%s/b/notes.png", data);
    FILE *t = fopen(p2, "w");
    assert_non_null(t);
    fputs("not an image\n", t);
    fclose(t);
    const char *common = "--pretrained none --arch resnet18 --image-size 8 --epochs 1 --bs 4 "
                         "-j 2 --no-progress";
    snprintf(run, sizeof run, "%s/badrun", f->tmp);
    int rc = sg_test_run(&out, NULL, "train '%s' %s --out '%s'", data, common, run);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, p1);
    SG_ASSERT_CONTAINS(out, p2);
    SG_ASSERT_CONTAINS(out, "2 of 11 input images cannot be read (listed above)");
    SG_ASSERT_CONTAINS(out, "--on-error skip");
    assert_null(strstr(out, "epoch")); /* found before training started */
    free(out);
    assert_false(sg_test_path_exists(run));
    rc = sg_test_run(&out, NULL, "train '%s' %s --out '%s' --on-error skip", data, common, run);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "warning: skipped 2 unreadable inputs:");
    SG_ASSERT_CONTAINS(out, "8 training and 1 validation samples");
    free(out);
    /* predict lists them the same way, and writes nothing */
    rc = sg_test_run(&out, NULL, "predict '%s/last.safetensors' '%s' -o '%s/bad.csv'", run, data,
                     f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, p1);
    SG_ASSERT_CONTAINS(out, p2);
    free(out);
    char p[4500];
    snprintf(p, sizeof p, "%s/bad.csv", f->tmp);
    assert_false(sg_test_path_exists(p));
    rc = sg_test_run(&out, NULL, "predict '%s/last.safetensors' '%s' -o '%s/bad.csv' --on-error "
                     "skip", run, data, f->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    char *csv = sg_test_slurp(p);
    assert_non_null(csv);
    int lines = 0;
    for (const char *c = csv; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 1 + 9);
    free(csv);
}

/* A DSA-like root: activities a01, a02, subjects p1, p2, 3 segments of
 * 125 rows x 45 columns each. */
static void make_dsa_root(const char *root)
{
    char path[4500];
    for (int a = 1; a <= 2; a++)
        for (int s = 1; s <= 2; s++) {
            snprintf(path, sizeof path, "mkdir -p '%s/a%02d/p%d'", root, a, s);
            assert_int_equal(system(path), 0);
            for (int seg = 1; seg <= 3; seg++) {
                snprintf(path, sizeof path, "%s/a%02d/p%d/s%02d.txt", root, a, s, seg);
                FILE *fp = fopen(path, "w");
                assert_non_null(fp);
                for (int t = 0; t < 125; t++)
                    for (int k = 0; k < 45; k++)
                        fprintf(fp, "%.4f%c", sin(0.05 * t * (k % 5 + 1) * a + 0.2 * seg + s),
                                k + 1 < 45 ? ',' : '\n');
                assert_int_equal(fclose(fp), 0);
            }
        }
}

/* Item 14: a sensor checkpoint given an image says what it expects. */
static void test_sensor_checkpoint_given_image(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char root[4300], run[4300], img[4400], *out;
    snprintf(root, sizeof root, "%s/dsaroot", f->tmp);
    snprintf(run, sizeof run, "%s/dsarun", f->tmp);
    make_dsa_root(root);
    int rc = sg_test_run(&out, NULL,
                         "train --dataset dsa '%s' --units T --sensors acc --encoder gray "
                         "--pretrained none --arch resnet18 --epochs 1 --bs 4 --valid-pct 0 "
                         "--image-size 8 --out '%s' --no-progress",
                         root, run);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    snprintf(img, sizeof img, "%s/cat.png", f->tmp);
    write_png(img, 8, 8, 0, 1);
    rc = sg_test_run(&out, NULL, "predict '%s/last.safetensors' '%s' -o '%s/s.csv'", run, img,
                     f->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "cat.png is a PNG image, but this checkpoint expects sensor "
                            "recordings (3 axes, gray encoder: CSV segment files or a DSA root)");
    free(out);
    /* and the segments themselves still predict */
    rc = sg_test_run(&out, NULL, "predict '%s/last.safetensors' '%s/a01/p1/s01.txt' -o '%s/s.csv'",
                     run, root, f->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
}

/* Item 8, through the binary: YCCK (CMYK) JPEGs train and predict like
 * any photo.  Written here with TurboJPEG from inverted CMYK samples. */
static void write_ycck_jpeg(const char *path, int w, int h, unsigned char k)
{
    unsigned char *px = malloc((size_t)w * (size_t)h * 4);
    assert_non_null(px);
    for (int i = 0; i < w * h; i++) {
        px[i * 4] = (unsigned char)(i * 7);
        px[i * 4 + 1] = (unsigned char)(255 - i * 3);
        px[i * 4 + 2] = 128;
        px[i * 4 + 3] = k;
    }
    tjhandle tj = tjInitCompress();
    assert_non_null(tj);
    unsigned char *jpg = NULL;
    unsigned long size = 0;
    assert_int_equal(tjCompress2(tj, px, w, 0, h, TJPF_CMYK, &jpg, &size, TJSAMP_444, 95, 0), 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(jpg, 1, size, f), size);
    fclose(f);
    tjFree(jpg);
    tjDestroy(tj);
    free(px);
}

static void test_cmyk_photos_train_and_predict(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH();
    char data[4300], p[4400], run[4400], *out;
    snprintf(data, sizeof data, "%s/cmykdata", f->tmp);
    make_classes(data, 4, 8, 8);
    snprintf(p, sizeof p, "%s/a/cmyk.jpg", data);
    write_ycck_jpeg(p, 12, 10, 250);
    snprintf(p, sizeof p, "%s/b/cmyk.jpg", data);
    write_ycck_jpeg(p, 10, 12, 90);
    snprintf(run, sizeof run, "%s/cmykrun", f->tmp);
    int rc = sg_test_run(&out, NULL,
                         "train '%s' --pretrained none --arch resnet18 --image-size 8 --epochs 1 "
                         "--bs 4 --out '%s' --no-progress",
                         data, run);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "8 training and 2 validation samples");
    free(out);
    rc = sg_test_run(&out, NULL, "predict '%s/last.safetensors' '%s' -o '%s/cmyk.csv'", run, p,
                     f->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    snprintf(p, sizeof p, "%s/cmyk.csv", f->tmp);
    char *csv = sg_test_slurp(p);
    assert_non_null(csv);
    SG_ASSERT_CONTAINS(csv, "cmyk.jpg");
    free(csv);
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
        cmocka_unit_test(test_missing_dsa_root_leaves_no_run),
        cmocka_unit_test(test_one_class),
        cmocka_unit_test(test_truncated_image),
        cmocka_unit_test(test_mixed_sizes),
        cmocka_unit_test(test_checkpoint_cases),
        cmocka_unit_test(test_nan_loss),
        cmocka_unit_test(test_disk_full_keeps_checkpoint),
        cmocka_unit_test(test_existing_run_refused),
        cmocka_unit_test(test_broken_checkpoints),
        cmocka_unit_test(test_wrong_file_kinds),
        cmocka_unit_test(test_sizes_checked_up_front),
        cmocka_unit_test(test_label_regex_and_flat_folder),
        cmocka_unit_test(test_unfinished_encode_folder),
        cmocka_unit_test(test_interrupt_and_resume_guard),
        cmocka_unit_test(test_unreadable_inputs_up_front),
        cmocka_unit_test(test_sensor_checkpoint_given_image),
        cmocka_unit_test(test_cmyk_photos_train_and_predict),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
