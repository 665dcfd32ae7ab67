/* test_avg_ensemble.c - weight averaging and fold ensembles through the
 * binary, on walking vs running of DSA subjects 1-2 (accelerometers of
 * the torso, gray, ResNet18 at 16x16, 1-2 epochs):
 *   --ema: the table says the EMA is validated; last.safetensors holds
 *     the averaged weights with the training ones ("train.*") beside
 *     them; `eval` of it on the held-out subject reproduces the run's
 *     final accuracy, log loss and validation probabilities (validation
 *     and checkpoint use the same averaged model); a run stopped after
 *     epoch 0 and resumed ends bit-identical to one run straight;
 *     2 ranks (torchrun) and --accumulate 2 end with the same averages.
 *   --swa 1: only the last epoch is validated with averaged weights.
 *   --cv loso --keep-folds: fold_N/model.safetensors per fold, each the
 *     fold's final model (its eval gives the run's out-of-fold
 *     probabilities); `eval RUN` and `predict RUN` (and the comma list)
 *     give the mean of the members' own probabilities; members with
 *     other classes are refused in one line naming both files, members
 *     of other encodings (encoder, size) give the mean of their own
 *     evals; --overwrite removes the fold models.
 * The formula itself (EMA and SWA to 1e-6 by hand) is test_weight_avg.c.
 */
#include "tests/sg_preds.h"
#include "tests/sg_walkrun.h"

#include "models/safetensors.h"

#include <signal.h>

typedef struct fx {
    walkrun w;        /* data, p1, p2: walking vs running of p1, p2 */
    char three[4200]; /* a01, a09, a12 of p1, p2 */
    int port;
} fx;

#define COMMON                                                                            \
    "--dataset dsa '%s' --sensors acc --units T --arch resnet18 --image-size 16 --bs 16 " \
    "--lr 2e-3 --pretrained none --seed 3 -j 1 --threads 1 --no-progress"

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    walkrun_open(&f->w);
    f->port = 29600 + (int)(getpid() % 300);
    snprintf(f->three, sizeof f->three, "%s/three", f->w.tmp);
    if (sg_test_dsa_subset(f->three, "a01 a09 a12", "p1 p2") != 0)
        f->w.data[0] = '\0';
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    walkrun_close(&f->w);
    free(f);
    return 0;
}

/* --- checkpoints --- */

static float *read_tensor(const sg_st_file *f, const char *name, size_t *numel)
{
    const sg_st_tensor *t = sg_st_find(f, name);
    if (!t)
        return NULL;
    float *v = malloc((t->numel ? t->numel : 1) * sizeof *v);
    assert_non_null(v);
    assert_int_equal(sg_st_read_f32(f, t, v), 0);
    *numel = t->numel;
    return v;
}

/* Largest |main - train.main| / max|main| over the parameters of path;
 * -1 when the file has no training tensors. */
static double averaged_vs_training(const char *path)
{
    sg_st_file f;
    assert_int_equal(sg_st_open(&f, path), 0);
    double worst = -1.0;
    int params = 0;
    for (size_t i = 0; i < f.n_tensors; i++) {
        const char *name = f.tensors[i].name;
        if (strncmp(name, "train.", 6) == 0 || strncmp(name, "optim.", 6) == 0 ||
            strstr(name, "running_") || strstr(name, "num_batches"))
            continue;
        char key[512];
        snprintf(key, sizeof key, "train.%s", name);
        size_t na = 0, nb = 0;
        float *a = read_tensor(&f, name, &na), *b = read_tensor(&f, key, &nb);
        if (!b) {
            free(a);
            continue;
        }
        assert_int_equal(na, nb);
        double scale = 0.0, diff = 0.0;
        for (size_t k = 0; k < na; k++) {
            scale = fmax(scale, fabs((double)a[k]));
            diff = fmax(diff, fabs((double)a[k] - (double)b[k]));
        }
        if (worst < 0)
            worst = 0.0;
        if (scale > 0 && diff / scale > worst)
            worst = diff / scale;
        params++;
        free(a);
        free(b);
    }
    assert_true(worst < 0 || params > 50); /* resnet18: 62 parameter tensors */
    sg_st_close(&f);
    return worst;
}

/* Every tensor of a and b (weights, training weights, optimizer) equal. */
static void assert_same_tensors(const char *pa, const char *pb)
{
    sg_st_file a, b;
    assert_int_equal(sg_st_open(&a, pa), 0);
    assert_int_equal(sg_st_open(&b, pb), 0);
    assert_int_equal(a.n_tensors, b.n_tensors);
    for (size_t i = 0; i < a.n_tensors; i++) {
        size_t na = 0, nb = 0;
        float *x = read_tensor(&a, a.tensors[i].name, &na);
        float *y = read_tensor(&b, a.tensors[i].name, &nb);
        assert_non_null(y);
        assert_int_equal(na, nb);
        if (memcmp(x, y, na * sizeof *x) != 0) {
            print_error("%s: tensor %s differs from %s\n", pa, a.tensors[i].name, pb);
            fail();
        }
        free(x);
        free(y);
    }
    sg_st_close(&a);
    sg_st_close(&b);
}

/* The text of the line of `out` that starts with `key` (copied). */
static void line_of(char *buf, size_t size, const char *out, const char *key)
{
    const char *p = strstr(out, key);
    if (!p) {
        print_error("no line with '%s' in:\n%s\n", key, out);
        fail();
    }
    p += strspn(p, "\n");
    size_t len = strcspn(p, "\n");
    snprintf(buf, size, "%.*s", (int)len, p);
}

static void test_usage_errors(void **state)
{
    fx *f = *state;
    WALKRUN_REQUIRE(&f->w);
    char *out, run[4400];
    snprintf(run, sizeof run, "%s/usage", f->w.tmp);
    int rc = sg_test_run(&out, NULL, "train " COMMON " --ema 0.9 --swa 1 --out '%s'", f->w.data,
                         run);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--ema and --swa are two ways to average weights");
    free(out);
    rc = sg_test_run(&out, NULL, "train " COMMON " --keep-folds --out '%s'", f->w.data, run);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--keep-folds needs --cv");
    free(out);
    rc = sg_test_run(&out, NULL, "train " COMMON " --ema 1.5 --out '%s'", f->w.data, run);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--ema: '1.5' is not a number in");
    free(out);
    rc = sg_test_run(&out, NULL, "train " COMMON " --epochs 2 --swa 3 --out '%s'", f->w.data, run);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--swa 3: the run has fewer epochs");
    free(out);
    assert_false(sg_test_path_exists(run));
}

static void test_ema_validates_and_saves_the_average(void **state)
{
    fx *f = *state;
    WALKRUN_REQUIRE(&f->w);
    char run[4400], ck[4500], ev[4500], pr[4500], *out, *eout;
    snprintf(run, sizeof run, "%s/ema", f->w.tmp);
    int rc = sg_test_run(&out, NULL,
                         "train " COMMON " --valid-subjects 2 --epochs 2 --ema 0.9 --out '%s'",
                         f->w.data, run);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "use the EMA of the weights (decay 0.9)");
    SG_ASSERT_CONTAINS(out, "(ema weights)");
    snprintf(ck, sizeof ck, "%s/last.safetensors", run);
    /* averaged weights, and the training ones beside them, differ */
    double rel = averaged_vs_training(ck);
    if (!(rel > 1e-3)) {
        print_error("EMA weights equal the training weights (max rel diff %g)\n", rel);
        fail();
    }
    /* The checkpoint is the validated model: eval on the held-out subject
     * prints the run's final numbers and writes its probabilities. */
    snprintf(ev, sizeof ev, "%s/ev", f->w.tmp);
    rc = sg_test_run(&eout, NULL, "eval '%s' '%s' -o '%s' --no-progress", ck, f->w.p2, ev);
    SG_ASSERT_EXIT(rc, 0, eout);
    char want[256], got[256];
    line_of(want, sizeof want, out, "final: accuracy ");
    line_of(got, sizeof got, eout, "samples: accuracy ");
    double wa, wl, ga, gl;
    assert_int_equal(sscanf(want, "final: accuracy %lf log_loss %lf", &wa, &wl), 2);
    assert_int_equal(sscanf(got, "samples: accuracy %lf log_loss %lf", &ga, &gl), 2);
    if (wa != ga || wl != gl) {
        print_error("train said '%s', eval of last.safetensors '%s'\n", want, got);
        fail();
    }
    preds *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    snprintf(pr, sizeof pr, "%s/predictions.csv", ev);
    read_preds(a, pr);
    snprintf(pr, sizeof pr, "%s/predictions.csv", run);
    read_preds(b, pr);
    assert_int_equal(a->n, 120);
    assert_int_equal(b->n, 120);
    assert_rows_match("eval of the EMA checkpoint vs the run's validation", a, b, 1e-6);
    free(a);
    free(b);
    free(eout);
    free(out);
}

/* Needs the run of the test above (same options). */
static void test_ema_resume_is_exact(void **state)
{
    fx *f = *state;
    WALKRUN_REQUIRE(&f->w);
    char run[4400], straight[4500], resumed[4500], *out;
    snprintf(run, sizeof run, "%s/ema_resume", f->w.tmp);
    snprintf(straight, sizeof straight, "%s/ema/last.safetensors", f->w.tmp);
    assert_true(sg_test_path_exists(straight));
    /* SIGINT once the first checkpoint is whole; epochs take seconds. */
    int rc = sg_test_run(&out, "(",
                         "train " COMMON " --valid-subjects 2 --epochs 2 --ema 0.9 --out '%s' & "
                         "p=$!; while [ ! -f '%s/last.safetensors' ]; do sleep 0.05; done; "
                         "kill -INT $p; wait $p )",
                         f->w.data, run, run);
    SG_ASSERT_EXIT(rc, 130, out);
    SG_ASSERT_CONTAINS(out, "interrupted after epoch 0");
    free(out);
    rc = sg_test_run(&out, NULL,
                     "train " COMMON " --valid-subjects 2 --epochs 2 --ema 0.9 --resume "
                     "--out '%s'",
                     f->w.data, run);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "resuming");
    free(out);
    snprintf(resumed, sizeof resumed, "%s/last.safetensors", run);
    assert_same_tensors(resumed, straight);
    /* --resume with another decay is refused before any step */
    rc = sg_test_run(&out, NULL,
                     "train " COMMON " --valid-subjects 2 --epochs 3 --ema 0.5 --resume "
                     "--out '%s'",
                     f->w.data, run);
    assert_int_not_equal(rc, 0);
    free(out);
}

static void test_swa_averages_the_last_epochs(void **state)
{
    fx *f = *state;
    WALKRUN_REQUIRE(&f->w);
    char run[4400], ck[4500], *out;
    snprintf(run, sizeof run, "%s/swa", f->w.tmp);
    int rc = sg_test_run(&out, NULL,
                         "train " COMMON " --valid-subjects 2 --epochs 2 --swa 1 --out '%s'",
                         f->w.data, run);
    SG_ASSERT_EXIT(rc, 0, out);
    char row0[256], row1[256];
    line_of(row0, sizeof row0, out, "\n0  ");
    line_of(row1, sizeof row1, out, "\n1  ");
    assert_null(strstr(row0, "swa"));
    assert_non_null(strstr(row1, "(swa weights)"));
    snprintf(ck, sizeof ck, "%s/last.safetensors", run);
    /* one averaged epoch: the mean of one set of weights is that set */
    double rel = averaged_vs_training(ck);
    if (rel != 0.0) {
        print_error("--swa 1: averaged and training weights differ (%g) or are missing\n", rel);
        fail();
    }
    free(out);
}

/* 2 ranks and one process with --accumulate 2 take the same steps
 * (test_dist.c): their averages agree too, and every rank's average
 * hashes the same after each epoch. */
static void test_ema_two_ranks(void **state)
{
    fx *f = *state;
    WALKRUN_REQUIRE(&f->w);
    SG_REQUIRE_PYTHON("torch.distributed.run");
    char dist_run[4400], one_run[4400], prefix[1024], a[4500], b[4500], *out;
    snprintf(dist_run, sizeof dist_run, "%s/ema_dist", f->w.tmp);
    snprintf(one_run, sizeof one_run, "%s/ema_one", f->w.tmp);
    snprintf(prefix, sizeof prefix,
             "OMP_NUM_THREADS=1 %s -m torch.distributed.run --nproc_per_node 2 "
             "--monitor_interval 0.2 --redirects 9:1 --tee 9:1 --master_addr 127.0.0.1 "
             "--master_port %d --no_python",
             sg_test_python(), f->port++);
    int rc = sg_test_run(&out, prefix,
                         "train " COMMON " --valid-subjects 2 --epochs 1 --ema 0.9 "
                         "--dist-hash-log --out '%s'",
                         f->w.data, dist_run);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "2 ranks (Gloo)");
    const char *h0 = strstr(out, "rank 0 epoch 0 weights fnv1a ");
    const char *h1 = strstr(out, "rank 1 epoch 0 weights fnv1a ");
    assert_non_null(h0);
    assert_non_null(h1);
    assert_memory_equal(h0 + 29, h1 + 29, 16);
    free(out);
    rc = sg_test_run(&out, NULL,
                     "train " COMMON " --valid-subjects 2 --epochs 1 --ema 0.9 --accumulate 2 "
                     "--out '%s'",
                     f->w.data, one_run);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    snprintf(a, sizeof a, "%s/last.safetensors", dist_run);
    snprintf(b, sizeof b, "%s/last.safetensors", one_run);
    sg_st_file x, y;
    assert_int_equal(sg_st_open(&x, a), 0);
    assert_int_equal(sg_st_open(&y, b), 0);
    size_t compared = 0;
    for (size_t i = 0; i < x.n_tensors; i++) {
        const char *name = x.tensors[i].name;
        if (strstr(name, "running_") || strstr(name, "num_batches") ||
            strncmp(name, "optim.", 6) == 0)
            continue;
        size_t na = 0, nb = 0;
        float *p = read_tensor(&x, name, &na), *q = read_tensor(&y, name, &nb);
        assert_non_null(q);
        assert_int_equal(na, nb);
        double scale = 0, diff = 0;
        for (size_t k = 0; k < na; k++) {
            scale = fmax(scale, fabs((double)q[k]));
            diff = fmax(diff, fabs((double)p[k] - (double)q[k]));
        }
        if (diff > 1e-6 * scale + 1e-9) {
            print_error("%s: 2 ranks vs --accumulate 2 differ by %g (scale %g)\n", name, diff,
                        scale);
            fail();
        }
        compared++;
        free(p);
        free(q);
    }
    assert_true(compared > 120); /* the averages and the training weights */
    sg_st_close(&x);
    sg_st_close(&y);
}

static void test_keep_folds_ensemble(void **state)
{
    fx *f = *state;
    WALKRUN_REQUIRE(&f->w);
    char run[4400], path[4600], *out;
    snprintf(run, sizeof run, "%s/cv", f->w.tmp);
    int rc = sg_test_run(&out, NULL, "train " COMMON " --epochs 1 --cv loso --keep-folds --out '%s'",
                         f->w.data, run);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "fold 1/2 (validation subject 1)");
    SG_ASSERT_CONTAINS(out, "fold 2/2 (validation subject 2)");
    free(out);
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/fold_%d/model.safetensors", run, k);
        assert_true(sg_test_path_exists(path));
    }
    snprintf(path, sizeof path, "%s/fold_2", run);
    assert_false(sg_test_path_exists(path));
    preds *oof = malloc(sizeof *oof), *m[2], *ens = malloc(sizeof *ens);
    assert_non_null(oof);
    assert_non_null(ens);
    snprintf(path, sizeof path, "%s/predictions.csv", run);
    read_preds(oof, path);
    assert_int_equal(oof->n, 240);
    /* Each member alone on all the data; on its held-out subject it is
     * the fold's final model (the run's out-of-fold probabilities). */
    for (int k = 0; k < 2; k++) {
        char ev[4500];
        snprintf(ev, sizeof ev, "%s/ev_fold%d", f->w.tmp, k);
        rc = sg_test_run(&out, NULL, "eval '%s/fold_%d/model.safetensors' '%s' -o '%s' "
                         "--no-progress", run, k, f->w.data, ev);
        SG_ASSERT_EXIT(rc, 0, out);
        free(out);
        m[k] = malloc(sizeof *m[k]);
        assert_non_null(m[k]);
        snprintf(path, sizeof path, "%s/predictions.csv", ev);
        read_preds(m[k], path);
        assert_int_equal(m[k]->n, 240);
        preds *held = malloc(sizeof *held);
        assert_non_null(held);
        memset(held, 0, sizeof *held);
        char tag[8];
        snprintf(tag, sizeof tag, "_p%d_", k + 1);
        for (int i = 0; i < m[k]->n; i++)
            if (strstr(m[k]->name[i], tag)) {
                memcpy(held->name[held->n], m[k]->name[i], sizeof held->name[0]);
                memcpy(held->p[held->n], m[k]->p[i], sizeof held->p[0]);
                held->n++;
            }
        assert_int_equal(held->n, 120);
        assert_rows_match("fold model vs the run's out-of-fold predictions", held, oof, 1e-6);
        free(held);
    }
    /* The ensemble: the run folder, then the same as a comma list. */
    char ev[4500];
    snprintf(ev, sizeof ev, "%s/ev_ens", f->w.tmp);
    rc = sg_test_run(&out, NULL, "eval '%s' '%s' -o '%s' --no-progress", run, f->w.data, ev);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "ensemble of 2 checkpoints");
    free(out);
    snprintf(path, sizeof path, "%s/predictions.csv", ev);
    read_preds(ens, path);
    assert_int_equal(ens->n, 240);
    double worst = 0.0, spread = 0.0;
    for (int i = 0; i < ens->n; i++) {
        int a = find_row(m[0], ens->name[i]), b = find_row(m[1], ens->name[i]);
        assert_true(a >= 0 && b >= 0);
        for (int c = 0; c < 2; c++) {
            worst = fmax(worst, fabs(ens->p[i][c] - 0.5 * (m[0]->p[a][c] + m[1]->p[b][c])));
            spread = fmax(spread, fabs(m[0]->p[a][c] - m[1]->p[b][c]));
        }
    }
    if (worst > 1e-6) {
        print_error("ensemble vs mean of the members: max |diff| %g\n", worst);
        fail();
    }
    assert_true(spread > 1e-3); /* two different models: the mean is not either one */
    /* predict: the same probabilities; the comma list: the same too */
    char csv[4500];
    snprintf(csv, sizeof csv, "%s/ens_predict.csv", f->w.tmp);
    rc = sg_test_run(&out, NULL,
                     "predict '%s/fold_0/model.safetensors,%s/fold_1/model.safetensors' '%s' "
                     "-o '%s' --no-progress",
                     run, run, f->w.data, csv);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "(ensemble: mean probabilities)");
    free(out);
    preds *pr = malloc(sizeof *pr);
    assert_non_null(pr);
    read_preds(pr, csv);
    assert_int_equal(pr->n, 240);
    assert_rows_match("predict of the comma list vs eval of the run folder", pr, ens, 1e-9);
    free(pr);
    free(ens);
    free(oof);
    free(m[0]);
    free(m[1]);
}

/* Needs the --keep-folds run of test_keep_folds_ensemble.  The run
 * ensembled with itself is the run: tools/cv_ensemble.sh must give each
 * fold the accuracy --cv loso gave it, on that fold's held-out subject
 * alone (a fold evaluated on its training subject would score higher). */
static void test_cv_ensemble_script(void **state)
{
    fx *f = *state;
    WALKRUN_REQUIRE(&f->w);
    char run[4400], dir[4500], cmd[16000], path[4600];
    snprintf(run, sizeof run, "%s/cv", f->w.tmp);
    snprintf(dir, sizeof dir, "%s/cv_ens", f->w.tmp);
    snprintf(cmd, sizeof cmd,
             "SENSORGRAM='%s' sh tools/cv_ensemble.sh -o '%s' '%s' '%s' '%s' >'%s.log' 2>&1",
             sg_test_bin(), dir, f->w.data, run, run, dir);
    int st = system(cmd);
    snprintf(path, sizeof path, "%s.log", dir);
    char *log = sg_test_slurp(path);
    SG_ASSERT_EXIT(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0, log);
    SG_ASSERT_CONTAINS(log, "over 2 folds");
    free(log);
    double want[2], got[2];
    int subject, n;
    for (int which = 0; which < 2; which++) {
        snprintf(path, sizeof path, "%s/cv_folds.csv", which ? dir : run);
        char *text = sg_test_slurp(path);
        assert_non_null(text);
        for (int k = 0; k < 2; k++) {
            char key[8];
            snprintf(key, sizeof key, "\n%d,", k);
            const char *row = strstr(text, key);
            assert_non_null(row);
            double acc;
            if (which) /* fold,subject,n_valid,accuracy,log_loss */
                assert_int_equal(sscanf(row + 1, "%*d,%d,%d,%lf", &subject, &n, &acc), 3);
            else /* fold,subject,n_train,n_valid,accuracy,log_loss */
                assert_int_equal(sscanf(row + 1, "%*d,%d,%*d,%d,%lf", &subject, &n, &acc), 3);
            assert_int_equal(subject, k + 1);
            assert_int_equal(n, 120);
            (which ? got : want)[k] = acc;
        }
        free(text);
    }
    for (int k = 0; k < 2; k++)
        if (fabs(got[k] - want[k]) > 5e-5) {
            print_error("fold %d: cv_ensemble.sh %.4f, --cv loso %.6f\n", k, got[k], want[k]);
            fail();
        }
    /* an existing output folder is not overwritten */
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);

    /* One run alone, its folds evaluated with eval's options: each
     * held-out subject's eval adapted its BatchNorm statistics. */
    snprintf(dir, sizeof dir, "%s/cv_adapt", f->w.tmp);
    snprintf(cmd, sizeof cmd,
             "SENSORGRAM='%s' sh tools/cv_ensemble.sh -o '%s' -e --adapt-bn '%s' '%s' "
             ">'%s.log' 2>&1",
             sg_test_bin(), dir, f->w.data, run, dir);
    st = system(cmd);
    snprintf(path, sizeof path, "%s.log", dir);
    log = sg_test_slurp(path);
    SG_ASSERT_EXIT(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0, log);
    SG_ASSERT_CONTAINS(log, "over 2 folds");
    free(log);
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/fold_%d/config.json", dir, k);
        char *config = sg_test_slurp(path);
        assert_non_null(config);
        SG_ASSERT_CONTAINS(config, "\"adapt_bn\": true");
        free(config);
    }
}

/* Needs the run of the test above.  Other classes are refused; other
 * encodings are an ensemble of representations. */
static void test_ensemble_classes_and_encodings(void **state)
{
    fx *f = *state;
    WALKRUN_REQUIRE(&f->w);
    char run[4400], other[4400], small[4400], ev[4400], path[4600], *out;
    snprintf(run, sizeof run, "%s/cv", f->w.tmp);
    snprintf(path, sizeof path, "%s/fold_0/model.safetensors", run);
    assert_true(sg_test_path_exists(path));
    snprintf(other, sizeof other, "%s/three_classes", f->w.tmp);
    snprintf(small, sizeof small, "%s/small_input", f->w.tmp);
    snprintf(ev, sizeof ev, "%s/ev_bad", f->w.tmp);
    int rc = sg_test_run(&out, NULL, "train " COMMON " --epochs 1 --valid-subjects 2 --out '%s'",
                         f->three, other);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    rc = sg_test_run(&out, NULL,
                     "train " COMMON " --epochs 1 --valid-subjects 2 --image-size 8 --encoder "
                     "gray --out '%s'",
                     f->w.data, small);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    rc = sg_test_run(&out, NULL, "eval '%s,%s/last.safetensors' '%s' -o '%s' --no-progress",
                     path, other, f->w.data, ev);
    SG_ASSERT_EXIT(rc, 1, out);
    char want[9000];
    snprintf(want, sizeof want,
             "sensorgram eval: %s and %s/last.safetensors have different classes", path, other);
    SG_ASSERT_CONTAINS(out, want);
    assert_null(strchr(strchr(out, '\n') ? strchr(out, '\n') + 1 : "", '\n'));
    free(out);
    snprintf(want, sizeof want, "%s/predictions.csv", ev);
    assert_false(sg_test_path_exists(want));
    /* Members of other encodings (here image size, channels and the
     * encoder) each read the inputs their own way: the ensemble is the
     * mean of their own evals. */
    preds *a = malloc(sizeof *a), *b = malloc(sizeof *b), *e = malloc(sizeof *e);
    assert_true(a && b && e);
    const char *members[3] = {path, small, NULL};
    preds *alone[2] = {a, b};
    for (int k = 0; k < 3; k++) {
        char spec[9000], dir[4500];
        if (k < 2)
            snprintf(spec, sizeof spec, "%s%s", members[k], k ? "/last.safetensors" : "");
        else
            snprintf(spec, sizeof spec, "%s,%s/last.safetensors", path, small);
        snprintf(dir, sizeof dir, "%s/ev_mixed%d", f->w.tmp, k);
        rc = sg_test_run(&out, NULL, "eval '%s' '%s' -o '%s' --no-progress", spec, f->w.data, dir);
        SG_ASSERT_EXIT(rc, 0, out);
        free(out);
        snprintf(want, sizeof want, "%s/predictions.csv", dir);
        read_preds(k < 2 ? alone[k] : e, want);
    }
    assert_int_equal(e->n, a->n);
    double worst = 0.0, spread = 0.0;
    for (int i = 0; i < e->n; i++) {
        int ia = find_row(a, e->name[i]), ib = find_row(b, e->name[i]);
        assert_true(ia >= 0 && ib >= 0);
        for (int c = 0; c < 2; c++) {
            worst = fmax(worst, fabs(e->p[i][c] - 0.5 * (a->p[ia][c] + b->p[ib][c])));
            spread = fmax(spread, fabs(a->p[ia][c] - b->p[ib][c]));
        }
    }
    if (worst > 1e-6) {
        print_error("mixed-encoding ensemble vs mean of the members: max |diff| %g\n", worst);
        fail();
    }
    assert_true(spread > 1e-3);
    free(a);
    free(b);
    free(e);
    /* A folder that is no run */
    rc = sg_test_run(&out, NULL, "eval '%s' '%s' -o '%s' --no-progress", f->w.data, f->w.data, ev);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "a folder without last.safetensors, fold_N/model.safetensors or "
                            "member_N/");
    free(out);
    /* A new run over the folder takes the fold models with it. */
    rc = sg_test_run(&out, NULL,
                     "train " COMMON " --epochs 1 --cv loso --overwrite --out '%s'", f->w.data,
                     run);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    assert_false(sg_test_path_exists(path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_ema_validates_and_saves_the_average),
        cmocka_unit_test(test_ema_resume_is_exact),
        cmocka_unit_test(test_swa_averages_the_last_epochs),
        cmocka_unit_test(test_ema_two_ranks),
        cmocka_unit_test(test_keep_folds_ensemble),
        cmocka_unit_test(test_cv_ensemble_script),
        cmocka_unit_test(test_ensemble_classes_and_encodings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
