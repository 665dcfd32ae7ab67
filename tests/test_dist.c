/* test_dist.c - data-parallel training through the binary: 2 CPU ranks on
 * 127.0.0.1 with Gloo, launched by torchrun (Debian's python3-torch) for
 * the SGD and AdamW checks, or directly with the environment torchrun
 * would set (our own TCPStore instead of torchrun's agent store) for the
 * others: the fault tests need it (torchrun's agent would itself kill the
 * survivor, which would hide whether our own timeout works); --sync-bn, CV
 * and resume save torchrun's Python agent (~4 s of wall time a launch).
 *
 * Data: 240 DSA segments (activities 1-4 of subject 1, accelerometers,
 * gray encoder), 192 training and 48 validation samples, ResNet18 at
 * 16x16, one thread per rank, --bs 48 per rank (2 steps an epoch; 96 and
 * 1 step for AdamW, 120 for the CV folds: under ASan every step's 45 MB
 * gradient and optimizer temporaries are fresh mmaps, so steps, not
 * samples, are what the test pays for, and each process ~2 s of start-up;
 * runs are shared between checks; no BatchNorm recalibration but in the
 * --sync-bn check).  Checks:
 *   - 2 ranks x --bs B give the same weights as 1 process with --bs B
 *     --accumulate 2, to 1e-6 relative, for SGD (1 epoch) and AdamW
 *     (2 epochs), one-cycle;
 *   - both ranks print the same weights hash after every epoch;
 *   - one run folder (the SGD run's); its validation row equals the mean
 *     loss of predictions.csv (rank 0 alone over the whole validation
 *     set), and the confusion matrix counts 48 samples once;
 *   - --sync-bn: 2 ranks x --bs 48 give the weights and BatchNorm running
 *     statistics of 1 process with --bs 96, to 1e-5 relative, while the
 *     per-rank BatchNorm SGD run is far from them; config.json says so;
 *   - killing rank 1 mid-epoch makes rank 0 exit 1 within the timeout
 *     naming rank 1; stopping it (a hang) does too, through the timeout
 *     (both pairs at once); no temporary file is left in the run folder;
 *   - --cv kfold:2 --cv-parallel on 2 ranks writes the same cv table,
 *     predictions, confusion matrix, top losses, fold checkpoints and
 *     metrics rows as sequential CV, for a two-member --member ensemble;
 *   - a 1-process --accumulate 2 run killed after epoch 0 and resumed on
 *     2 ranks with --dist-overlap off ends with the uninterrupted AdamW
 *     run's weights; --resume with another global batch is refused (one
 *     process);
 *   - a missing rendezvous, a rank outside the world, --accumulate with
 *     ranks: usage errors (2) before anything is written.
 * Skips without libtorch, without the DSA data or without torchrun.
 */
#include "tests/sg_run.h"
#include "tests/sg_test_models.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "models/safetensors.h"
#include "models/sg_model.h"

typedef struct dist_fx {
    char *tmp;
    char data[4200];
    int port;
} dist_fx;

static int setup(void **state)
{
    dist_fx *e = calloc(1, sizeof *e);
    assert_non_null(e);
    e->tmp = sg_test_tmpdir();
    /* Ports apart from concurrent test runs on the same machine. */
    e->port = 20000 + (int)(getpid() % 20000);
    snprintf(e->data, sizeof e->data, "%s/dsa", e->tmp);
    if (sg_test_dsa_subset(e->data, "a01 a02 a03 a04", "p1") != 0)
        e->data[0] = '\0';
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    dist_fx *e = *state;
    sg_test_rmtree(e->tmp);
    free(e->tmp);
    free(e);
    return 0;
}

#define REQUIRE_DATA(e)                                                                  \
    do {                                                                                 \
        SG_REQUIRE_TORCH();                                                              \
        SG_REQUIRE_DSA((e)->data);                                                       \
    } while (0)

#define COMMON_ARGS                                                                       \
    "--sensors acc --encoder gray --arch resnet18 --image-size 16 --bs 48 --lr 2e-3 "      \
    "--pretrained none --seed 3 -j 1 --threads 1 --no-progress --bn-recal 0"

/* torchrun's launcher line for 2 local ranks.  `--redirects 9:1 --tee 9:1`
 * names a local rank that does not exist: Debian's torch 1.13 under
 * Python 3.11 cannot parse the default "0" (IntFlag iteration changed),
 * and a map for rank 9 leaves ranks 0 and 1 on the console. */
static void torchrun_prefix(char *buf, size_t size, int port)
{
    snprintf(buf, size,
             "OMP_NUM_THREADS=1 %s -m torch.distributed.run --nproc_per_node 2 "
             "--monitor_interval 0.2 --redirects 9:1 --tee 9:1 --master_addr 127.0.0.1 "
             "--master_port %d --no_python",
             sg_test_python(), port);
}

/* The launcher line for 2 local ranks started directly, with the
 * environment torchrun would set (rank 1 in the background; the exit
 * status is rank 0's, or rank 1's when rank 0 succeeded).  Cheaper than
 * torchrun's Python agent (~1 s CPU, ~4 s wall a launch); the tests of
 * the torchrun path use torchrun_prefix. */
static void direct_prefix(char *buf, size_t size, const dist_fx *e, int port)
{
    char script[4400];
    snprintf(script, sizeof script, "%s/two_ranks.sh", e->tmp);
    if (!sg_test_path_exists(script)) {
        FILE *f = fopen(script, "w");
        assert_non_null(f);
        fputs("p=$1; shift\n"
              "export OMP_NUM_THREADS=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=$p WORLD_SIZE=2\n"
              "RANK=1 LOCAL_RANK=1 \"$@\" & r1pid=$!\n"
              "RANK=0 LOCAL_RANK=0 \"$@\"; r0=$?\n"
              "wait $r1pid; r1=$?\n"
              "[ $r0 -eq 0 ] && exit $r1; exit $r0\n",
              f);
        assert_int_equal(fclose(f), 0);
    }
    snprintf(buf, size, "sh '%s' %d", script, port);
}

/* Largest |a - b| / max|a| over the parameters and, by what: 0 the
 * optimizer state, 1 the BatchNorm running means and variances (not by
 * default: under DDP's rule they are rank 0's own), 2 nothing else. */
static double max_rel_diff_ex(const char *pa, const char *pb, int what)
{
    sg_st_file a, b;
    assert_int_equal(sg_st_open(&a, pa), 0);
    assert_int_equal(sg_st_open(&b, pb), 0);
    assert_int_equal(a.n_tensors, b.n_tensors);
    double worst = 0.0;
    size_t compared = 0;
    for (size_t i = 0; i < a.n_tensors; i++) {
        const sg_st_tensor *ta = &a.tensors[i];
        if ((what != 1 && strstr(ta->name, "running_")) || strstr(ta->name, "num_batches") ||
            (what != 0 && strncmp(ta->name, "optim.", 6) == 0))
            continue;
        const sg_st_tensor *tb = sg_st_find(&b, ta->name);
        assert_non_null(tb);
        assert_int_equal(ta->numel, tb->numel);
        float *x = malloc(ta->numel * sizeof *x), *y = malloc(ta->numel * sizeof *y);
        assert_non_null(x);
        assert_non_null(y);
        assert_int_equal(sg_st_read_f32(&a, ta, x), 0);
        assert_int_equal(sg_st_read_f32(&b, tb, y), 0);
        double scale = 0.0, diff = 0.0;
        for (size_t k = 0; k < ta->numel; k++) {
            scale = fmax(scale, fabs((double)x[k]));
            diff = fmax(diff, fabs((double)x[k] - (double)y[k]));
        }
        if (scale > 0 && diff / scale > worst)
            worst = diff / scale;
        compared++;
        free(x);
        free(y);
    }
    assert_true(compared > 50); /* resnet18: 62 parameters (+ 40 buffers or their state) */
    sg_st_close(&a);
    sg_st_close(&b);
    return worst;
}

static double max_rel_diff(const char *pa, const char *pb)
{
    return max_rel_diff_ex(pa, pb, 0);
}

/* The hash rank r printed after epoch ep ("" when absent). */
static void hash_of(char *out, size_t size, const char *log, int r, int ep)
{
    char key[96];
    snprintf(key, sizeof key, "rank %d epoch %d weights fnv1a ", r, ep);
    const char *p = log ? strstr(log, key) : NULL;
    out[0] = '\0';
    if (p)
        snprintf(out, size, "%.16s", p + strlen(key));
}

/* Both ranks printed the same weights hash after every epoch. */
static void check_rank_hashes(const char *out, int epochs)
{
    for (int ep = 0; ep < epochs; ep++) {
        char h0[32], h1[32];
        hash_of(h0, sizeof h0, out, 0, ep);
        hash_of(h1, sizeof h1, out, 1, ep);
        if (!h0[0] || strcmp(h0, h1) != 0) {
            print_error("epoch %d: rank hashes '%s' and '%s' differ or are missing:\n%s\n", ep,
                        h0, h1, out);
            fail();
        }
    }
}

static void check_equivalence(dist_fx *e, const char *opt, int epochs, int bs)
{
    char dist_run[4400], one_run[4400], prefix[1024], *out = NULL;
    snprintf(dist_run, sizeof dist_run, "%s/dist_%s", e->tmp, opt);
    snprintf(one_run, sizeof one_run, "%s/one_%s", e->tmp, opt);
    torchrun_prefix(prefix, sizeof prefix, e->port++);
    int rc = sg_test_run(&out, prefix,
                         "train --dataset dsa '%s' " COMMON_ARGS " --opt %s --epochs %d "
                         "--bs %d --dist-hash-log --out '%s'",
                         e->data, opt, epochs, bs, dist_run);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "2 ranks (Gloo)");
    check_rank_hashes(out, epochs);
    /* Only rank 0 prints the table: one header line. */
    const char *first = strstr(out, "train_loss");
    assert_non_null(first);
    assert_null(strstr(first + 1, "train_loss"));
    free(out);
    rc = sg_test_run(&out, NULL,
                     "train --dataset dsa '%s' " COMMON_ARGS " --opt %s --epochs %d "
                     "--bs %d --accumulate 2 --out '%s'",
                     e->data, opt, epochs, bs, one_run);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    char a[4500], b[4500];
    snprintf(a, sizeof a, "%s/last.safetensors", dist_run);
    snprintf(b, sizeof b, "%s/last.safetensors", one_run);
    double rel = max_rel_diff(a, b);
    if (rel > 1e-6) {
        print_error("%s: 2 ranks vs --accumulate 2: max relative difference %g > 1e-6\n", opt,
                    rel);
        fail();
    }
    /* The training losses of both runs' epoch rows agree too. */
    char ma[4500], mb[4500];
    snprintf(ma, sizeof ma, "%s/metrics.csv", dist_run);
    snprintf(mb, sizeof mb, "%s/metrics.csv", one_run);
    char *ta = sg_test_slurp(ma), *tb = sg_test_slurp(mb);
    assert_non_null(ta);
    assert_non_null(tb);
    const char *ea = strstr(ta, "\nepoch,"), *eb = strstr(tb, "\nepoch,");
    assert_non_null(ea);
    assert_non_null(eb);
    double la = 0, lb = 0;
    /* kind,phase,epoch,step,lr,momentum,train_loss */
    assert_int_equal(sscanf(ea, "\nepoch,%*d,%*d,%*d,,,%lf", &la), 1);
    assert_int_equal(sscanf(eb, "\nepoch,%*d,%*d,%*d,,,%lf", &lb), 1);
    assert_true(fabs(la - lb) <= 1e-6 * fabs(la));
    free(ta);
    free(tb);
}

static void test_sgd_two_ranks_equal_accumulate(void **state)
{
    dist_fx *e = *state;
    REQUIRE_DATA(e);
    SG_REQUIRE_PYTHON("torch.distributed.run");
    check_equivalence(e, "sgd", 1, 48);
}

static void test_adamw_two_ranks_equal_accumulate(void **state)
{
    dist_fx *e = *state;
    REQUIRE_DATA(e);
    SG_REQUIRE_PYTHON("torch.distributed.run");
    /* --bs 96 x 2 ranks: the whole training set, one step an epoch */
    check_equivalence(e, "adamw", 2, 96);
}

/* --sync-bn: 2 ranks x --bs 48 take the steps of one process with --bs 96
 * (BatchNorm over the whole batch of 96), weights and BatchNorm running
 * statistics alike (those of the recalibration before each validation,
 * which --sync-bn shards over the ranks as well).  The SGD run of the
 * first test (per-rank BatchNorm, otherwise the same; its recalibration
 * is off, which changes no weight) must have weights far from that
 * reference: this comparison can tell the two apart. */
static void test_sync_bn_equals_full_batch(void **state)
{
    dist_fx *e = *state;
    REQUIRE_DATA(e);
    char dist_run[4400], one_run[4400], prefix[1024], *out = NULL;
    snprintf(dist_run, sizeof dist_run, "%s/dist_syncbn", e->tmp);
    snprintf(one_run, sizeof one_run, "%s/one_bs96", e->tmp);
    direct_prefix(prefix, sizeof prefix, e, e->port++);
    int rc = sg_test_run(&out, prefix,
                         "train --dataset dsa '%s' " COMMON_ARGS " --opt sgd --epochs 1 "
                         "--bn-recal 20 --sync-bn --dist-hash-log --out '%s'",
                         e->data, dist_run);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "BatchNorm statistics over all ranks (--sync-bn)");
    check_rank_hashes(out, 1);
    free(out);
    /* --sync-bn in one process says it changes nothing, and does nothing. */
    rc = sg_test_run(&out, NULL,
                     "train --dataset dsa '%s' " COMMON_ARGS " --opt sgd --epochs 1 --bs 96 "
                     "--bn-recal 20 --sync-bn --out '%s'",
                     e->data, one_run);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "--sync-bn has no effect in one process");
    free(out);
    char a[4500], b[4500];
    snprintf(a, sizeof a, "%s/last.safetensors", dist_run);
    snprintf(b, sizeof b, "%s/last.safetensors", one_run);
    /* Weights and running statistics (what the issue asks for), not the
     * optimizer state: the first convolution's momentum buffer carries
     * float noise of ~1e-4 relative, already between 1 and 2 threads of
     * one process (its gradient is a difference of nearly equal sums
     * behind BatchNorm), while the weights stay within a few 1e-6. */
    double rel = max_rel_diff_ex(a, b, 1);
    print_message("--sync-bn 2 x 48 vs 1 x 96: max relative difference %g\n", rel);
    if (rel > 1e-5) {
        print_error("--sync-bn on 2 ranks vs one process with the whole batch: max relative "
                    "difference %g > 1e-5\n", rel);
        fail();
    }
    snprintf(a, sizeof a, "%s/config.json", dist_run);
    char *config = sg_test_slurp(a);
    assert_non_null(config);
    SG_ASSERT_CONTAINS(config, "\"sync_bn\": true");
    free(config);
    snprintf(a, sizeof a, "%s/dist_sgd/last.safetensors", e->tmp);
    if (!sg_test_path_exists(a)) {
        print_message("SKIP: the per-rank BatchNorm check needs the SGD run of the first test\n");
        skip();
    }
    double per_rank = max_rel_diff_ex(a, b, 2);
    print_message("per-rank BatchNorm 2 x 48 vs 1 x 96: max relative difference %g\n", per_rank);
    if (per_rank < 1e-3) {
        print_error("per-rank BatchNorm is only %g from the whole-batch reference: the "
                    "--sync-bn comparison could not tell them apart\n", per_rank);
        fail();
    }
}

/* The SGD run's folder (made by the first test; one epoch). */
static void test_one_run_folder_covers_validation_once(void **state)
{
    dist_fx *e = *state;
    REQUIRE_DATA(e);
    SG_REQUIRE_PYTHON("torch.distributed.run");
    char p[4500];
    snprintf(p, sizeof p, "%s/dist_sgd/predictions.csv", e->tmp);
    char *preds = sg_test_slurp(p);
    if (!preds) {
        print_message("SKIP: needs the SGD run of the first test\n");
        skip();
    }
    /* 48 rows after the header, each segment once; mean loss. */
    int rows = 0;
    double loss_sum = 0.0;
    char *save = NULL;
    for (char *line = strtok_r(preds, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (rows++ == 0)
            continue; /* header */
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        char *c3 = c2 ? strchr(c2 + 1, ',') : NULL;
        assert_non_null(c3);
        loss_sum += strtod(c3 + 1, NULL);
    }
    free(preds);
    assert_int_equal(rows - 1, 48);
    snprintf(p, sizeof p, "%s/dist_sgd/metrics.csv", e->tmp);
    char *metrics = sg_test_slurp(p);
    assert_non_null(metrics);
    const char *row = strstr(metrics, "\nepoch,");
    assert_non_null(row);
    assert_null(strstr(row + 1, "\nepoch,")); /* one epoch, one row: rank 0 alone wrote */
    double tl, vl;
    assert_int_equal(sscanf(row, "\nepoch,%*d,%*d,%*d,,,%lf,%lf", &tl, &vl), 2);
    free(metrics);
    /* The sharded validation (24 samples per rank, summed) equals the
     * whole-set prediction of rank 0 (printed with 9 digits). */
    double mean = loss_sum / 48.0;
    if (fabs(mean - vl) > 1e-6 * fabs(vl) + 1e-8) {
        print_error("sharded valid_loss %.9g vs predictions.csv mean %.9g\n", vl, mean);
        fail();
    }
    snprintf(p, sizeof p, "%s/dist_sgd/confusion_matrix.csv", e->tmp);
    char *cm = sg_test_slurp(p);
    assert_non_null(cm);
    long total = 0;
    char *nl = strchr(cm, '\n');
    for (char *line = nl ? nl + 1 : NULL; line && *line;) {
        char *next = strchr(line, '\n');
        char *c = strchr(line, ',');
        while (c && (!next || c < next)) {
            total += strtol(c + 1, NULL, 10);
            c = strchr(c + 1, ',');
        }
        line = next ? next + 1 : NULL;
    }
    free(cm);
    assert_int_equal(total, 48);
}

/* --cv-parallel over 2 ranks (fold 0 on rank 0, fold 1, the last, on rank 1)
 * writes the same cv table, predictions and metrics as sequential CV, here
 * for an ensemble of two members (train --member: one run per member, then
 * their mean, written by rank 0 alone). */
#define TWO_MEMBERS "--member '' --member '--units RA'"

static void test_cv_parallel_equals_sequential(void **state)
{
    dist_fx *e = *state;
    REQUIRE_DATA(e);
    char seq[4400], par[4400], prefix[1024], *out = NULL;
    snprintf(seq, sizeof seq, "%s/cv_seq", e->tmp);
    snprintf(par, sizeof par, "%s/cv_par", e->tmp);
    int rc = sg_test_run(&out, NULL,
                         "train --dataset dsa '%s' " COMMON_ARGS " --epochs 1 --bs 120 "
                         "--cv kfold:2 " TWO_MEMBERS " --out '%s'",
                         e->data, seq);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    direct_prefix(prefix, sizeof prefix, e, e->port++);
    rc = sg_test_run(&out, prefix,
                     "train --dataset dsa '%s' " COMMON_ARGS " --epochs 1 --bs 120 "
                     "--cv kfold:2 --cv-parallel " TWO_MEMBERS " --out '%s'",
                     e->data, par);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "cross-validation: accuracy");
    SG_ASSERT_CONTAINS(out, "ensemble of 2 members");
    free(out);
    const char *same[] = {"cv_folds.csv", "predictions.csv", "confusion_matrix.csv",
                          "top_losses.csv", "member_0/fold_1/last.safetensors",
                          "member_1/fold_1/last.safetensors", "member_1/predictions.csv"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        char a[4500], b[4500], cmd[9100];
        snprintf(a, sizeof a, "%s/%s", seq, same[i]);
        snprintf(b, sizeof b, "%s/%s", par, same[i]);
        snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
        if (system(cmd) != 0) {
            print_error("--cv-parallel %s differs from sequential CV\n", same[i]);
            fail();
        }
    }
    /* metrics.csv: the same rows in the same order but for the timing column. */
    char cmd[9100];
    snprintf(cmd, sizeof cmd,
             "cmp -s <(cut -d, -f1-10 '%s/member_0/metrics.csv') "
             "<(cut -d, -f1-10 '%s/member_0/metrics.csv')",
             seq, par);
    char bash[9300];
    snprintf(bash, sizeof bash, "bash -c \"%s\"", cmd);
    assert_int_equal(system(bash), 0);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Starts `sensorgram train` as rank `rank` of 2 with its output in log;
 * returns the child's pid. */
static pid_t start_rank(dist_fx *e, int rank, int port, const char *run, const char *log,
                        double timeout, const char *extra)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd,
             "exec env MASTER_ADDR=127.0.0.1 MASTER_PORT=%d WORLD_SIZE=2 RANK=%d LOCAL_RANK=%d "
             "%s train --dataset dsa '%s' " COMMON_ARGS " --epochs 20 --dist-timeout %g %s "
             "--out '%s' >'%s' 2>&1",
             port, rank, rank, sg_test_bin(), e->data, timeout, extra, run, log);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Waits until log contains needle (or seconds pass). */
static int wait_for_text(const char *log, const char *needle, double seconds)
{
    double t0 = mono_now();
    while (mono_now() - t0 < seconds) {
        char *text = sg_test_slurp(log);
        int found = text && strstr(text, needle);
        free(text);
        if (found)
            return 1;
        usleep(100000);
    }
    return 0;
}

/* One fault scenario: a pair of ranks, rank 1 signalled mid-epoch. */
typedef struct fault_case {
    int sig;
    const char *want, *tag, *extra;
    char run[4400], log0[4400], log1[4400];
    pid_t r0, r1;
    double t_signal, t_exit;
    int st;
    pid_t got;
} fault_case;

static const double fault_timeout = 6.0;

static void fault_start(dist_fx *e, fault_case *f)
{
    snprintf(f->run, sizeof f->run, "%s/fault_%s", e->tmp, f->tag);
    snprintf(f->log0, sizeof f->log0, "%s/fault_%s_rank0.log", e->tmp, f->tag);
    snprintf(f->log1, sizeof f->log1, "%s/fault_%s_rank1.log", e->tmp, f->tag);
    int port = e->port++;
    f->r1 = start_rank(e, 1, port, f->run, f->log1, fault_timeout, f->extra);
    f->r0 = start_rank(e, 0, port, f->run, f->log0, fault_timeout, f->extra);
    f->got = 0;
}

/* Mid-epoch: once training has started (the table header), during
 * epoch 0, plus 1 s. */
static void fault_signal(fault_case *f)
{
    if (!wait_for_text(f->log0, "train_loss", 120.0)) {
        kill(f->r0, SIGKILL);
        kill(f->r1, SIGKILL);
        waitpid(f->r0, NULL, 0);
        waitpid(f->r1, NULL, 0);
        char *t = sg_test_slurp(f->log0);
        print_error("%s: rank 0 never started training:\n%s\n", f->tag, t ? t : "(no log)");
        free(t);
        fail();
    }
    usleep(1000000);
    assert_int_equal(kill(f->r1, f->sig), 0);
    f->t_signal = mono_now();
}

/* Rank 0 exited by itself (or the wait is over): reaps what is left. */
static int fault_poll(fault_case *f)
{
    if (f->got == 0) {
        f->got = waitpid(f->r0, &f->st, WNOHANG);
        f->t_exit = mono_now();
    }
    return f->got != 0 || f->t_exit - f->t_signal > fault_timeout + 30.0;
}

static void fault_check(fault_case *f)
{
    double waited = f->t_exit - f->t_signal;
    if (f->got == 0)
        kill(f->r0, SIGKILL), waitpid(f->r0, &f->st, 0);
    kill(f->r1, SIGKILL);
    waitpid(f->r1, NULL, 0);
    char *text = sg_test_slurp(f->log0);
    if (f->got == 0 || !WIFEXITED(f->st) || WEXITSTATUS(f->st) != 1 ||
        waited > fault_timeout + 10.0) {
        print_error("rank 0 after %s of rank 1: %s, status %d, after %.1fs:\n%s\n", f->tag,
                    f->got ? "exited" : "still running", f->st, waited, text ? text : "");
        fail();
    }
    /* The fault lands in a training step or, where epoch 0 was already
     * over, in the validation after it; the line then names that context
     * after the rank ("rank 0: validation after epoch 0 (no checkpoint
     * written): lost rank 1 ..."). Either way it is one line of rank 0
     * that names the rank once. */
    SG_ASSERT_CONTAINS(text, "sensorgram train: rank 0: ");
    SG_ASSERT_CONTAINS(text, "lost rank 1");
    const char *line = strstr(text, "sensorgram train: rank 0: ");
    const char *again = line ? strstr(line + strlen("sensorgram train: rank 0: "), "rank 0") : NULL;
    if (again && !memchr(line, '\n', (size_t)(again - line))) {
        print_error("the error line names rank 0 twice:\n%s\n", text);
        fail();
    }
    SG_ASSERT_CONTAINS(text, f->want);
    free(text);
    /* The run folder: whole files only (atomic writes leave *.tmp* while
     * in progress); a checkpoint, if one was written, reads. */
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "test -z \"$(find '%s' -name '*.tmp*' 2>/dev/null)\"", f->run);
    assert_int_equal(system(cmd), 0);
    char ck[4500];
    snprintf(ck, sizeof ck, "%s/last.safetensors", f->run);
    if (sg_test_path_exists(ck)) {
        sg_st_file sf;
        assert_int_equal(sg_st_open(&sf, ck), 0);
        sg_st_close(&sf);
    }
}

/* A one-process --accumulate 2 run stopped after epoch 0 and resumed on
 * 2 ranks (same global batch) ends with the weights of the AdamW run that
 * was never interrupted; another global batch is refused.  The resumed
 * run has --dist-overlap off: all buckets after backward give the same
 * sums as the overlapped all-reduce of the uninterrupted run. */
static void test_resume_on_two_ranks(void **state)
{
    dist_fx *e = *state;
    REQUIRE_DATA(e);
    char run[4400], log[4400], ck[4500], cmd[9000];
    snprintf(run, sizeof run, "%s/resumed", e->tmp);
    snprintf(log, sizeof log, "%s/resumed.log", e->tmp);
    snprintf(ck, sizeof ck, "%s/last.safetensors", run);
    snprintf(cmd, sizeof cmd,
             "exec %s train --dataset dsa '%s' " COMMON_ARGS " --opt adamw --epochs 2 "
             "--bs 96 --accumulate 2 --out '%s' >'%s' 2>&1",
             sg_test_bin(), e->data, run, log);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    /* The checkpoint of epoch 0 appears whole (atomic rename): stop there. */
    double t0 = mono_now();
    while (!sg_test_path_exists(ck) && mono_now() - t0 < 120.0)
        usleep(20000);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    assert_true(sg_test_path_exists(ck));
    /* Another global batch is refused (one process is enough to check
     * that: the 2-rank resume below shows the ranks are counted in it). */
    char *out = NULL, prefix[1024];
    int rc = sg_test_run(&out, NULL,
                         "train --dataset dsa '%s' " COMMON_ARGS " --opt adamw --epochs 2 "
                         "--bs 48 --accumulate 2 --resume --out '%s'",
                         e->data, run);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "global batch of 192 (1 rank), this run would use 96 (--bs 48 x 1 "
                            "ranks x --accumulate 2)");
    free(out);
    direct_prefix(prefix, sizeof prefix, e, e->port++);
    rc = sg_test_run(&out, prefix,
                     "train --dataset dsa '%s' " COMMON_ARGS " --opt adamw --epochs 2 --resume "
                     "--bs 96 --dist-overlap off --out '%s'",
                     e->data, run);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "resuming");
    free(out);
    char whole[4500];
    snprintf(whole, sizeof whole, "%s/one_adamw/last.safetensors", e->tmp);
    if (!sg_test_path_exists(whole)) {
        print_message("SKIP: needs the AdamW runs of the second test\n");
        skip();
    }
    double rel = max_rel_diff(whole, ck);
    print_message("resumed on 2 ranks, overlap off, vs uninterrupted: max relative difference "
                  "%g\n", rel);
    if (rel > 1e-6) {
        print_error("resumed on 2 ranks vs uninterrupted: max relative difference %g\n", rel);
        fail();
    }
}

/* Killing rank 1 (its socket closes) and stopping it (a hang: only the
 * timeout can tell) make rank 0 exit 1 naming rank 1.  The two pairs run
 * at the same time: the hang's cost is mostly waiting for the timeout.
 * The killed pair has --sync-bn, so its rank 0 mostly loses rank 1 in a
 * SyncBatchNorm all-reduce (in forward or inside backward's engine), the
 * hung one in the gradient all-reduce: the same one-line message. */
static void test_killed_or_hung_rank_stops_the_other(void **state)
{
    dist_fx *e = *state;
    REQUIRE_DATA(e);
    fault_case f[2] = {
        {.sig = SIGKILL, .want = "connection closed", .tag = "kill", .extra = "--sync-bn"},
        {.sig = SIGSTOP, .want = "process-group timeout", .tag = "stop", .extra = ""},
    };
    for (int i = 0; i < 2; i++)
        fault_start(e, &f[i]);
    for (int i = 0; i < 2; i++)
        fault_signal(&f[i]);
    for (;;) {
        int done0 = fault_poll(&f[0]), done1 = fault_poll(&f[1]);
        if (done0 && done1)
            break;
        usleep(50000);
    }
    for (int i = 0; i < 2; i++)
        fault_check(&f[i]);
}

static void test_bad_setup_is_a_usage_error(void **state)
{
    dist_fx *e = *state;
    REQUIRE_DATA(e);
    char *out = NULL;
    int rc = sg_test_run(&out, "env -u MASTER_ADDR WORLD_SIZE=2 RANK=0",
                         "train --dataset dsa '%s' " COMMON_ARGS " --epochs 1 --out '%s/x'",
                         e->data, e->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "set MASTER_ADDR and MASTER_PORT");
    free(out);
    rc = sg_test_run(&out, NULL,
                     "train --dataset dsa '%s' " COMMON_ARGS " --epochs 1 --rank 3 "
                     "--world-size 2 --dist-url tcp://127.0.0.1:1 --out '%s/x'",
                     e->data, e->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "rank 3 is outside world size 2");
    free(out);
    rc = sg_test_run(&out, "WORLD_SIZE=2 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=1",
                     "train --dataset dsa '%s' " COMMON_ARGS " --epochs 1 --accumulate 2 "
                     "--out '%s/x'",
                     e->data, e->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--accumulate is for one process");
    free(out);
    /* Not a usage error but a failure, named for the rank that met it,
     * once: nothing listens on port 1. */
    rc = sg_test_run(&out, "WORLD_SIZE=2 RANK=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=1",
                     "train --dataset dsa '%s' " COMMON_ARGS " --epochs 1 --dist-timeout 1 "
                     "--out '%s/x'",
                     e->data, e->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "sensorgram train: rank 1: cannot reach the rendezvous at "
                            "127.0.0.1:1 within 1s");
    assert_null(strstr(strstr(out, "rank 1: ") + strlen("rank 1: "), "rank 1: "));
    free(out);
    /* Nothing was written for any of them. */
    char x[4400];
    snprintf(x, sizeof x, "%s/x", e->tmp);
    assert_false(sg_test_path_exists(x));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_two_ranks_equal_accumulate),
        cmocka_unit_test(test_adamw_two_ranks_equal_accumulate),
        cmocka_unit_test(test_one_run_folder_covers_validation_once),
        cmocka_unit_test(test_sync_bn_equals_full_batch),
        cmocka_unit_test(test_cv_parallel_equals_sequential),
        cmocka_unit_test(test_resume_on_two_ranks),
        cmocka_unit_test(test_killed_or_hung_rank_stops_the_other),
        cmocka_unit_test(test_bad_setup_is_a_usage_error),
    };
    /* SG_TEST_FILTER=PATTERN runs only the matching cases (cmocka's * and ?). */
    const char *only = getenv("SG_TEST_FILTER");
    if (only && *only)
        cmocka_set_test_filter(only);
    return cmocka_run_group_tests(tests, setup, teardown);
}
