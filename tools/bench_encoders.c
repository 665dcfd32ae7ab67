/* bench_encoders.c - encoder throughput against a vectorized numpy baseline.
 *
 *   build/tools/bench_encoders [DSA_ROOT] [THREADS] [ONLY]
 *
 * Loads every DSA segment under DSA_ROOT (default data/dsa) keeping the
 * 15 accelerometer axes, encodes all of them with each encoder (float
 * output into per-thread buffers reused across segments, as the dataset
 * writer does) on THREADS threads (default 2), then runs
 * tools/numpy_encoders.py on the same data (dumped as raw float32) and
 * prints encoder, size, C img/s, numpy img/s and their ratio.  Both sides
 * repeat their work for at least a second and report their fastest
 * repetition (the machine is shared; interference only slows a pass),
 * by wall clock and by CPU time; the CPU-time ratio scales C's rate per
 * CPU-second to THREADS cores, a load-independent view of the same race.  ONLY
 * restricts the run to one encoder name and skips numpy (for profiling).
 *
 * An image is one encoder output: one per axis for rp/gasf/gadf/mtf/
 * spectrogram, one per unit (x, y, z jointly) for jrp, one per segment
 * (15 rows) for gray.  numpy does the same work per image.
 *
 * Benchmark only (make bench); never part of make test.
 */
#include "datasets/dsa.h"
#include "encoders/enc.h"
#include "datasets/series.h"
#include "src/base/sg_error.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct bench_case {
    const char *label;   /* the numpy script's name for it */
    int size;            /* image side, for the table */
    enc_params p;
} bench_case;

typedef struct bench_job {
    const sg_series_set *set;
    const bench_case *bc;
    const enc_fit *fit;
    int thread, n_threads;
    int rc;
    double checksum;     /* keeps the work observable */
    char error[256];
} bench_job;

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }

/* CPU seconds of all this process's threads. */
static double cpu_s(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

/* jrp encodes each unit's (x, y, z) jointly; everything else all 15 axes. */
static int bench_groups(const bench_case *bc, int C) { return bc->p.kind == ENC_JRP ? C / 3 : 1; }

static void *bench_thread(void *arg)
{
    bench_job *job = arg;
    const sg_series_set *set = job->set;
    const enc_params *p = &job->bc->p;
    int C = set->n_channels, T = set->n_samples;
    int groups = bench_groups(job->bc, C), gc = C / groups;
    int oc, oh, ow;
    enc_workspace *ws = NULL;
    float *out = NULL;
    job->rc = enc_output_shape(p, gc, T, &oc, &oh, &ow);
    if (job->rc == 0)
        job->rc = enc_workspace_create(&ws, p, gc, T);
    if (job->rc == 0) {
        out = malloc(sizeof(float) * (size_t)oc * oh * ow);
        if (!out)
            job->rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    for (size_t i = (size_t)job->thread; job->rc == 0 && i < set->n; i += (size_t)job->n_threads) {
        const double *x = sg_series_at(set, i);
        for (int g = 0; g < groups && job->rc == 0; g++) {
            job->rc = enc_encode(out, x + (size_t)g * gc * T, gc, T, p, job->fit, ws);
            job->checksum += out[(size_t)oh * ow / 2];
        }
    }
    if (job->rc)
        snprintf(job->error, sizeof job->error, "%s", sg_last_error());
    free(out);
    enc_workspace_free(ws);
    return NULL;
}

/* One pass: every segment of the set encoded once with bc on n_threads
 * (fit prepared by the caller); *seconds is its wall time, *cpu the CPU
 * time of all its threads. */
static int bench_pass(double *seconds, double *cpu, const sg_series_set *set,
                      const bench_case *bc, const enc_fit *fit, int n_threads)
{
    bench_job jobs[64];
    pthread_t tid[64];
    double t0 = now_s(), c0 = cpu_s();
    for (int t = 0; t < n_threads; t++) {
        jobs[t] = (bench_job){.set = set, .bc = bc, .fit = fit, .thread = t, .n_threads = n_threads};
        if (pthread_create(&tid[t], NULL, bench_thread, &jobs[t]) != 0) {
            for (int u = 0; u < t; u++)
                pthread_join(tid[u], NULL);
            return sg_fail(SG_E_NOMEM, "cannot start thread %d", t);
        }
    }
    for (int t = 0; t < n_threads; t++)
        pthread_join(tid[t], NULL);
    *seconds = now_s() - t0;
    *cpu = cpu_s() - c0;
    for (int t = 0; t < n_threads; t++)
        if (jobs[t].rc)
            return sg_fail(jobs[t].rc, "%s: %s", bc->label, jobs[t].error);
    return 0;
}

/* Encodes the whole set with bc on n_threads, pass after pass for at
 * least BENCH_MIN_SECONDS and BENCH_MIN_PASSES, and returns the images per
 * second of the fastest pass.  The machine is shared, so other processes
 * only ever slow a pass down: the best pass is the least disturbed
 * estimate.  numpy_encoders.py times its side the same way. */
#define BENCH_MIN_SECONDS 1.0
#define BENCH_MIN_PASSES 3
static int bench_run(double *rate, double *cpu_rate, const sg_series_set *set,
                     const bench_case *bc, int n_threads)
{
    enc_fit *fit = NULL;
    int rc = enc_fit_create(&fit, &bc->p, set->data, set->n, set->n_channels, set->n_samples);
    if (rc)
        return rc;
    double best = 0.0, best_cpu = 0.0, total = 0.0;
    for (int pass = 0; rc == 0 && (pass < BENCH_MIN_PASSES || total < BENCH_MIN_SECONDS);
         pass++) {
        double dt = 0.0, dc = 0.0;
        rc = bench_pass(&dt, &dc, set, bc, fit, n_threads);
        total += dt;
        if (rc == 0 && (best == 0.0 || dt < best))
            best = dt;
        if (rc == 0 && (best_cpu == 0.0 || dc < best_cpu))
            best_cpu = dc;
    }
    enc_fit_free(fit);
    if (rc)
        return rc;
    int groups = bench_groups(bc, set->n_channels);
    double images = (double)set->n * (bc->p.kind == ENC_GRAY ? 1 : bc->p.kind == ENC_JRP
                                                                        ? groups
                                                                        : set->n_channels);
    *rate = images / best;
    *cpu_rate = images / best_cpu;
    return 0;
}

/* gray's floor: it reads each double and writes each float once, 12
 * bytes moved per value.  A memcpy of the same total bytes (src and dst
 * of 6 bytes per value each), split over n_threads like gray's passes,
 * best of several passes, in bytes moved (read + written) per second. */
struct copy_job {
    char *dst;
    const char *src;
    size_t n;
};

static void *copy_thread(void *arg)
{
    struct copy_job *j = arg;
    memcpy(j->dst, j->src, j->n);
    return NULL;
}

static int memcpy_floor(double *bytes_per_s, size_t values, int n_threads)
{
    size_t half = values * 6;
    char *src = malloc(half), *dst = malloc(half);
    if (!src || !dst) {
        free(src);
        free(dst);
        return sg_fail(SG_E_NOMEM, "out of memory for the memcpy floor");
    }
    memset(src, 1, half);
    memset(dst, 0, half);   /* touch every page before timing */
    double best = 0.0, total = 0.0;
    for (int pass = 0; pass < BENCH_MIN_PASSES || total < BENCH_MIN_SECONDS; pass++) {
        struct copy_job jobs[64];
        pthread_t tid[64];
        size_t per = half / (size_t)n_threads;
        double t0 = now_s();
        int started = 0;
        for (int t = 0; t < n_threads; t++) {
            size_t off = per * (size_t)t, n = t + 1 == n_threads ? half - off : per;
            jobs[t] = (struct copy_job){dst + off, src + off, n};
            if (pthread_create(&tid[t], NULL, copy_thread, &jobs[t]) != 0)
                break;
            started++;
        }
        for (int t = 0; t < started; t++)
            pthread_join(tid[t], NULL);
        double dt = now_s() - t0;
        if (started != n_threads) {
            free(src);
            free(dst);
            return sg_fail(SG_E_NOMEM, "cannot start copy threads");
        }
        total += dt;
        if (best == 0.0 || dt < best)
            best = dt;
    }
    free(src);
    free(dst);
    *bytes_per_s = 2.0 * (double)half / best;
    return 0;
}

/* The spectrogram's floor: FFTW alone doing the same transforms (one
 * fftwf_plan_many_dft_r2c over all frames of a segment's axes), plus a
 * window pass (frames copied out and multiplied) and a log-magnitude
 * pass (20 log10(|X| + 1e-6)), nothing else; same threads, best pass. */
struct fft_job {
    const sg_series_set *set;
    fftwf_plan plan;
    float *in, *win, *mag;
    fftwf_complex *out;
    int thread, n_threads, wl, hop, frames;
    double checksum;
};

static void *fft_thread(void *arg)
{
    struct fft_job *j = arg;
    const sg_series_set *set = j->set;
    int C = set->n_channels, T = set->n_samples, wl = j->wl, K = wl / 2 + 1;
    for (size_t i = (size_t)j->thread; i < set->n; i += (size_t)j->n_threads) {
        const double *x = sg_series_at(set, i);
        for (int c = 0; c < C; c++)
            for (int f = 0; f < j->frames; f++) {
                float *dst = j->in + ((size_t)c * j->frames + f) * wl;
                const double *src = x + (size_t)c * T + (size_t)f * j->hop;
                for (int k = 0; k < wl; k++)
                    dst[k] = (float)src[k] * j->win[k];
            }
        fftwf_execute_dft_r2c(j->plan, j->in, j->out);
        size_t nk = (size_t)C * j->frames * K;
        for (size_t k = 0; k < nk; k++) {
            float re = j->out[k][0], im = j->out[k][1];
            j->mag[k] = 20.0f * log10f(sqrtf(re * re + im * im) + 1e-6f);
        }
        j->checksum += j->mag[nk / 2];
    }
    return NULL;
}

static int fftw_floor(double *images_per_s, const sg_series_set *set, int n_threads)
{
    int wl = 32, hop = 4, C = set->n_channels, T = set->n_samples;
    int frames = 1 + (T - wl) / hop, K = wl / 2 + 1, howmany = C * frames;
    struct fft_job jobs[64];
    int rc = 0;
    memset(jobs, 0, sizeof jobs);
    for (int t = 0; t < n_threads && !rc; t++) {
        struct fft_job *j = &jobs[t];
        *j = (struct fft_job){.set = set, .thread = t, .n_threads = n_threads, .wl = wl,
                              .hop = hop, .frames = frames};
        j->in = fftwf_alloc_real((size_t)howmany * wl);
        j->out = fftwf_alloc_complex((size_t)howmany * K);
        j->mag = malloc(sizeof(float) * (size_t)howmany * K);
        j->win = malloc(sizeof(float) * (size_t)wl);
        if (!j->in || !j->out || !j->mag || !j->win) {
            rc = sg_fail(SG_E_NOMEM, "out of memory for the FFTW floor");
            break;
        }
        for (int k = 0; k < wl; k++)
            j->win[k] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * k / wl));   /* periodic hann */
        int n[1] = {wl};
        j->plan = fftwf_plan_many_dft_r2c(1, n, howmany, j->in, NULL, 1, wl, j->out, NULL, 1, K,
                                          FFTW_MEASURE);
        if (!j->plan)
            rc = sg_fail(SG_E_INVALID, "FFTW could not plan %d transforms of %d", howmany, wl);
    }
    double best = 0.0, total = 0.0;
    for (int pass = 0; !rc && (pass < BENCH_MIN_PASSES || total < BENCH_MIN_SECONDS); pass++) {
        pthread_t tid[64];
        int started = 0;
        double t0 = now_s();
        for (int t = 0; t < n_threads; t++, started++)
            if (pthread_create(&tid[t], NULL, fft_thread, &jobs[t]) != 0)
                break;
        for (int t = 0; t < started; t++)
            pthread_join(tid[t], NULL);
        double dt = now_s() - t0;
        if (started != n_threads)
            rc = sg_fail(SG_E_NOMEM, "cannot start FFTW threads");
        total += dt;
        if (best == 0.0 || dt < best)
            best = dt;
    }
    for (int t = 0; t < n_threads; t++) {
        if (jobs[t].plan)
            fftwf_destroy_plan(jobs[t].plan);
        fftwf_free(jobs[t].in);
        fftwf_free(jobs[t].out);
        free(jobs[t].mag);
        free(jobs[t].win);
    }
    if (rc)
        return rc;
    *images_per_s = (double)set->n * C / best;
    return 0;
}

/* Dumps the (n, C, T) data as raw float32 for the numpy baseline (its
 * float32-in, float32-out reference), one segment at a time. */
static int dump_raw(const char *path, const sg_series_set *set)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return sg_fail(SG_E_IO, "%s: cannot create", path);
    size_t seg = (size_t)set->n_channels * (size_t)set->n_samples;
    float *buf = malloc(seg * sizeof *buf);
    size_t wrote = 0, count = set->n * seg;
    for (size_t i = 0; buf && i < set->n; i++) {
        const double *x = sg_series_at(set, i);
        for (size_t k = 0; k < seg; k++)
            buf[k] = (float)x[k];
        wrote += fwrite(buf, sizeof(float), seg, fp);
    }
    free(buf);
    if (fclose(fp) != 0 || wrote != count)
        return sg_fail(SG_E_IO, "%s: write failed", path);
    return 0;
}

static int make_cases(bench_case *cases)
{
    int n = 0;
    bench_case *c;
#define ADD(lbl, sz, kind_)                                                                        \
    (c = &cases[n++], c->label = (lbl), c->size = (sz), enc_params_default(&c->p, (kind_)))
    ADD("gray", 125, ENC_GRAY);
    ADD("rp", 125, ENC_RP);
    ADD("jrp", 125, ENC_JRP);
    ADD("spectrogram", 17, ENC_SPECTROGRAM);
    static const enc_kind sized[] = {ENC_GASF, ENC_GADF, ENC_MTF};
    static const int sizes[] = {64, 125};
    for (int k = 0; k < 3; k++) {
        for (int s = 0; s < 2; s++) {
            ADD(enc_kind_name(sized[k]), sizes[s], sized[k]);
            c->p.image_size = sizes[s];
        }
    }
#undef ADD
    return n;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "data/dsa";
    int n_threads = argc > 2 ? atoi(argv[2]) : 2;
    const char *only = argc > 3 ? argv[3] : NULL;
    if (n_threads < 1 || n_threads > 64) {
        fprintf(stderr, "bench_encoders: THREADS must be in [1, 64]\n");
        return 2;
    }
    const char *python = getenv("SG_PYTHON");
    if (!python || !*python)
        python = "/usr/bin/python3";

    dsa_select sel;
    dsa_select_all(&sel);
    sg_series_set set = {0};
    if (dsa_select_parse(&sel, NULL, "acc", NULL) || dsa_load(&set, root, &sel, n_threads)) {
        fprintf(stderr, "bench_encoders: %s\n", sg_last_error());
        return 1;
    }
    printf("bench_encoders: %zu segments x %d acc axes x %d samples from %s, %d threads\n", set.n,
           set.n_channels, set.n_samples, root, n_threads);

    bench_case cases[16];
    int n_cases = make_cases(cases);
    double c_rate[16], c_cpu[16];
    for (int i = 0; i < n_cases; i++) {
        c_rate[i] = c_cpu[i] = 0.0;
        if (only && strcmp(only, cases[i].label) != 0)
            continue;
        if (bench_run(&c_rate[i], &c_cpu[i], &set, &cases[i], n_threads)) {
            fprintf(stderr, "bench_encoders: %s\n", sg_last_error());
            sg_series_set_free(&set);
            return 1;
        }
        fprintf(stderr, "  C %-12s %4d  %12.0f img/s\n", cases[i].label, cases[i].size, c_rate[i]);
    }

    /* gray against the machine's copy bandwidth (same bytes, same threads) */
    if (c_rate[0] > 0) {
        size_t values = set.n * (size_t)set.n_channels * (size_t)set.n_samples;
        double copy_bps = 0.0;
        if (memcpy_floor(&copy_bps, values, n_threads)) {
            fprintf(stderr, "bench_encoders: %s\n", sg_last_error());
            sg_series_set_free(&set);
            return 1;
        }
        double gray_bps = c_rate[0] * (double)set.n_channels * set.n_samples * 12.0;
        printf("gray: %.2f GB/s moved (8 B read + 4 B written per value) vs memcpy of the same "
               "bytes %.2f GB/s: %.0f%% (target >= 80%%)\n",
               gray_bps * 1e-9, copy_bps * 1e-9, 100.0 * gray_bps / copy_bps);
    }

    /* spectrogram against FFTW alone doing the same frames */
    if (c_rate[3] > 0) {
        double floor_rate = 0.0;
        if (fftw_floor(&floor_rate, &set, n_threads)) {
            fprintf(stderr, "bench_encoders: %s\n", sg_last_error());
            sg_series_set_free(&set);
            return 1;
        }
        printf("spectrogram: %.0f img/s vs FFTW alone (plan_many r2c over all frames + window + "
               "log-magnitude passes) %.0f img/s: %.2fx the floor's time (target <= 1.5x)\n",
               c_rate[3], floor_rate, floor_rate / c_rate[3]);
    }

    if (only) {
        sg_series_set_free(&set);
        return 0;
    }
    char dump[] = "/tmp/sg_bench_XXXXXX";
    int fd = mkstemp(dump);
    if (fd < 0 || (close(fd), dump_raw(dump, &set))) {
        fprintf(stderr, "bench_encoders: cannot write the data for numpy: %s\n", sg_last_error());
        sg_series_set_free(&set);
        return 1;
    }
    char cmd[1024];
    /* numpy on one thread, as bench.sh announces (its BLAS would
     * otherwise spread gaf's and mtf's matrix products over the cores) */
    snprintf(cmd, sizeof cmd,
             "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "
             "'%s' tools/numpy_encoders.py '%s' %zu %d %d",
             python, dump, set.n, set.n_channels, set.n_samples);
    double np_rate[16] = {0}, np_cpu[16] = {0};
    FILE *pp = popen(cmd, "r");
    if (pp) {
        char line[256], name[64];
        int size;
        double rate, cpu_rate;
        while (fgets(line, sizeof line, pp)) {
            if (sscanf(line, "%63s %d %lf %lf", name, &size, &rate, &cpu_rate) != 4)
                continue;
            for (int i = 0; i < n_cases; i++)
                if (strcmp(name, cases[i].label) == 0 && size == cases[i].size) {
                    np_rate[i] = rate;
                    np_cpu[i] = cpu_rate;
                }
        }
        if (pclose(pp) != 0)
            fprintf(stderr, "bench_encoders: numpy baseline failed (%s)\n", cmd);
    }
    remove(dump);

    /* wall: what this run saw (the machine may be shared).  CPU: images
     * per CPU-second of each side, which other load barely moves; the
     * last column is what CPU rates give for C on n_threads cores against
     * numpy on one (numpy_encoders.py runs single-threaded). */
    printf("\n%-12s %5s %12s %12s %7s | %12s %12s %9s\n", "encoder", "size", "C img/s",
           "numpy img/s", "ratio", "C img/cpu-s", "np img/cpu-s", "cpu ratio");
    for (int i = 0; i < n_cases; i++) {
        if (np_rate[i] > 0 && np_cpu[i] > 0)
            printf("%-12s %5d %12.0f %12.0f %6.1fx | %12.0f %12.0f %8.1fx\n", cases[i].label,
                   cases[i].size, c_rate[i], np_rate[i], c_rate[i] / np_rate[i], c_cpu[i],
                   np_cpu[i], n_threads * c_cpu[i] / np_cpu[i]);
        else
            printf("%-12s %5d %12.0f %12s %7s | %12.0f\n", cases[i].label, cases[i].size,
                   c_rate[i], "n/a", "n/a", c_cpu[i]);
    }
    sg_series_set_free(&set);
    return 0;
}
