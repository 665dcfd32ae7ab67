/* test_run_dir.c - the run-folder writers (run_dir.h) and the in-memory
 * sensor sample source (sample_source.h), against hand-checked values.
 */
#include "tests/sg_test.h"

#include <pthread.h>

#include "encoders/enc.h"
#include "src/train/run_dir.h"
#include "src/train/sample_source.h"

static char *read_text(const char *dir, const char *name)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_metrics_append_and_truncate(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    run_metrics *m;
    assert_int_equal(run_metrics_open(&m, dir, 0), 0);
    assert_int_equal(run_metrics_step(m, 0, 0, 0, 0.001, 0.95, 2.5), 0);
    assert_int_equal(run_metrics_epoch(m, 0, 0, 1, 2.5, 2.25, 0.5, 2.25, 1.0), 0);
    assert_int_equal(run_metrics_step(m, 1, 1, 1, 0.002, 0.85, 1.5), 0);
    assert_int_equal(run_metrics_epoch(m, 1, 1, 2, 1.5, NAN, NAN, NAN, 2.0), 0);
    assert_int_equal(run_metrics_step(m, 1, 2, 2, 0.003, 0.9, 0.5), 0);
    assert_int_equal(run_metrics_close(m), 0);
    const char *want =
        "kind,phase,epoch,step,lr,momentum,train_loss,valid_loss,accuracy,log_loss,seconds\n"
        "step,0,0,0,0.001,0.95,2.5,,,,\n"
        "epoch,0,0,1,,,2.5,2.25,0.5,2.25,1.000\n"
        "step,1,1,1,0.002,0.85,1.5,,,,\n"
        "epoch,1,1,2,,,1.5,,,,2.000\n"
        "step,1,2,2,0.003,0.9,0.5,,,,\n";
    assert_string_equal(read_text(dir, "metrics.csv"), want);

    /* Resume after epoch 1 of phase 1: the step of epoch 2 goes. */
    assert_int_equal(run_metrics_truncate(dir, 1, 1), 0);
    char expect[1024];
    snprintf(expect, sizeof expect, "%.*s", (int)(strstr(want, "step,1,2") - want), want);
    assert_string_equal(read_text(dir, "metrics.csv"), expect);

    /* Appending keeps the header single. */
    assert_int_equal(run_metrics_open(&m, dir, 1), 0);
    assert_int_equal(run_metrics_step(m, 1, 2, 2, 0.003, 0.9, 0.25), 0);
    assert_int_equal(run_metrics_close(m), 0);
    const char *text = read_text(dir, "metrics.csv");
    assert_non_null(strstr(text, "step,1,2,2,0.003,0.9,0.25,,,,\n"));
    assert_null(strstr(text + 10, "kind,"));
    sg_test_rmtree(dir);
    free(dir);
}

static void test_predictions_and_top_losses(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    char path[4400];
    snprintf(path, sizeof path, "%s/predictions.csv", dir);
    const char *paths[] = {"a,b.png", "c.png"};
    const char *classes[] = {"cat", "dog \"big\""};
    int labels[] = {1, -1};
    float probs[] = {0.25f, 0.75f, 0.5f, 0.5f};
    assert_int_equal(run_predictions_write(path, 2, paths, labels, probs, 2, classes), 0);
    /* loss = -ln(0.75) = 0.287682072; unknown label: empty label and loss;
     * ties go to the first class. */
    assert_string_equal(read_text(dir, "predictions.csv"),
                        "path,label,pred,loss,cat,\"dog \"\"big\"\"\"\n"
                        "\"a,b.png\",\"dog \"\"big\"\"\",\"dog \"\"big\"\"\",0.287682072,0.25,0.75\n"
                        "c.png,,cat,,0.5,0.5\n");
    snprintf(path, sizeof path, "%s/top_losses.csv", dir);
    run_top_loss rows[] = {{"top_losses/01.png", 0, 1, 0.9, 2.302585093}};
    assert_int_equal(run_top_losses_write(path, rows, 1, classes), 0);
    assert_string_equal(read_text(dir, "top_losses.csv"),
                        "rank,image,label,pred,prob,loss\n"
                        "1,top_losses/01.png,cat,\"dog \"\"big\"\"\",0.9,2.30258509\n");
    sg_test_rmtree(dir);
    free(dir);
}

/* A 1-channel set of n segments of T samples (owned strings everywhere,
 * as sg_series_set_free expects). */
static void make_set(sg_series_set *s, const double *data, size_t n, int T)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->n_channels = 1;
    s->n_samples = T;
    s->data = malloc(n * (size_t)T * sizeof *s->data);
    memcpy(s->data, data, n * (size_t)T * sizeof *s->data);
    s->channel_names = calloc(1, sizeof(char *));
    s->channel_names[0] = strdup("x");
    s->label = calloc(n, sizeof(int));
    s->subject = calloc(n, sizeof(int));
    s->segment = calloc(n, sizeof(int));
    s->source = calloc(n, sizeof(char *));
    s->name = calloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        s->label[i] = (int)(i % 2);
        s->source[i] = strdup("mem");
        s->name[i] = strdup(i ? "seg1" : "seg0");
    }
    s->n_classes = 2;
    s->class_names = calloc(2, sizeof(char *));
    s->class_names[0] = strdup("a");
    s->class_names[1] = strdup("b");
}

static void test_series_source_maps_like_png(void **state)
{
    (void)state;
    /* Unthresholded recurrence plot of (0, 1, 3): distances
     * [[0,1,3],[1,0,2],[3,2,0]], unbounded, so scaled by its max 3. */
    const double data[] = {0, 1, 3, 5, 5, 5};
    sg_series_set set;
    make_set(&set, data, 2, 3);
    enc_params p;
    enc_params_default(&p, ENC_RP);
    sample_source s;
    assert_int_equal(sample_source_series(&s, &set, &p, NULL, 2), 0);
    assert_null(set.data); /* taken over */
    assert_int_equal(s.n, 2);
    sg_image img;
    assert_int_equal(sample_source_read(&s, 0, &img), 0);
    assert_int_equal(img.c, 1);
    assert_int_equal(img.h, 3);
    assert_int_equal(img.w, 3);
    const double want[] = {0, 1.0 / 3, 1, 1.0 / 3, 0, 2.0 / 3, 1, 2.0 / 3, 0};
    sg_assert_close("rp mapped to [0,1]", img.data, want, 9, 1e-6, 0);
    sg_image_free(&img);
    /* A constant segment maps to 0, never NaN. */
    assert_int_equal(sample_source_read(&s, 1, &img), 0);
    const double zeros[9] = {0};
    sg_assert_close("constant rp", img.data, zeros, 9, 0, 0);
    sg_image_free(&img);
    assert_int_equal(s.label[1], 1);
    assert_string_equal(sample_source_loader_name(&s, 1), "seg1");
    assert_int_not_equal(sample_source_read(&s, 2, &img), 0);
    sample_source_free(&s);
}

typedef struct reader_arg {
    sample_source *s;
    int failures;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *a = p;
    for (int k = 0; k < 200; k++) {
        sg_image img;
        int label = -7;
        if (sample_source_loader_get(a->s, (size_t)(k % 2), 0, 0, &img, &label) != 0 ||
            label != k % 2 || img.data[2] != (k % 2 ? 0.0f : 1.0f))
            a->failures++;
        sg_image_free(&img);
    }
    return NULL;
}

static void test_workspace_pool_threads(void **state)
{
    (void)state;
    const double data[] = {0, 1, 3, 5, 5, 5};
    sg_series_set set;
    make_set(&set, data, 2, 3);
    enc_params p;
    enc_params_default(&p, ENC_RP);
    sample_source s;
    /* Four readers share two workspaces: they must wait, not collide. */
    assert_int_equal(sample_source_series(&s, &set, &p, NULL, 2), 0);
    pthread_t t[4];
    reader_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (reader_arg){&s, 0};
        assert_int_equal(pthread_create(&t[i], NULL, reader, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    sample_source_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_append_and_truncate),
        cmocka_unit_test(test_predictions_and_top_losses),
        cmocka_unit_test(test_series_source_maps_like_png),
        cmocka_unit_test(test_workspace_pool_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
