/* bench_train.c - training-step throughput of sensorgram's ResNet (C via
 * the libtorch bridge); tools/bench_train.py is the PyTorch side and
 * tools/bench_train.sh (CPU) / tools/gpu_check.sh (CUDA) run both and
 * print the ratio.
 *
 * usage: bench_train ARCH BATCH C H W STEPS THREADS
 *                    [DEVICE [PRECISION [CHANNELS_LAST [GRAPHS [WARMUP]]]]]
 *   DEVICE cpu|cuda (default cpu), PRECISION fp32|bf16|fp16 (fp32),
 *   CHANNELS_LAST 0|1 (0), GRAPHS off|on|auto (off), WARMUP steps (2)
 * prints: images_per_s=<batch / median step> median_ms=<> mean_ms=<> loss=<>
 *         (and graphs=<captures>/<replays>/<eager> when graphs are on)
 * Train mode, SGD (lr 0.01, momentum 0.9), random inputs and labels from
 * a host buffer (pinned on CUDA, as the loader's batches) copied in by
 * every step.  Each step ends with the loss on the host (sensorgram's
 * train step returns it, as fastai's loop reads it), so the wall time of
 * one call is the step's time; the median over STEPS is reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/base/sg_error.h"
#include "models/sg_model.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_train ARCH BATCH C H W STEPS THREADS "
                    "[DEVICE [PRECISION [CHANNELS_LAST [GRAPHS [WARMUP]]]]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 8 || argc > 13)
        return usage();
    sg_arch arch;
    if (sg_arch_parse(&arch, argv[1]) != 0) {
        fprintf(stderr, "bench_train: %s\n", sg_last_error());
        return 2;
    }
    int n = atoi(argv[2]), c = atoi(argv[3]), h = atoi(argv[4]), w = atoi(argv[5]);
    int steps = atoi(argv[6]), threads = atoi(argv[7]);
    const char *device = argc > 8 ? argv[8] : "cpu";
    const char *prec = argc > 9 ? argv[9] : "fp32";
    int channels_last = argc > 10 ? atoi(argv[10]) : 0;
    sg_cuda_graphs graphs = SG_CUDA_GRAPHS_OFF;
    if (argc > 11 && sg_cuda_graphs_parse(&graphs, argv[11]) != 0) {
        fprintf(stderr, "bench_train: GRAPHS %s\n", sg_last_error());
        return 2;
    }
    int warmup = argc > 12 ? atoi(argv[12]) : 2;
    sg_precision precision = SG_PRECISION_FP32;
    if (strcmp(prec, "bf16") == 0)
        precision = SG_PRECISION_BF16;
    else if (strcmp(prec, "fp16") == 0)
        precision = SG_PRECISION_FP16;
    else if (strcmp(prec, "fp32") != 0)
        return usage();
    const int n_classes = 19;
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || steps <= 0 || warmup < 0)
        return usage();
    size_t numel = (size_t)n * (size_t)c * (size_t)h * (size_t)w;
    float *x = NULL;
    int64_t *y = malloc((size_t)n * sizeof *y);
    double *dt = malloc((size_t)steps * sizeof *dt);
    if (sg_host_alloc((void **)&x, numel * sizeof *x) != 0 || !y || !dt) {
        fprintf(stderr, "bench_train: out of memory\n");
        return 1;
    }
    srand(1);
    for (size_t i = 0; i < numel; i++)
        x[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    for (int i = 0; i < n; i++)
        y[i] = i % n_classes;
    sg_model_spec spec = {.arch = arch, .in_channels = c, .n_classes = n_classes, .device = device,
                          .channels_last = channels_last, .precision = precision,
                          .n_threads = threads};
    sg_model *m = NULL;
    sg_optim *o = NULL;
    sg_optim_spec os = {.kind = SG_OPTIM_SGD, .lr = 0.01, .momentum = 0.9};
    int rc = sg_model_create(&m, &spec);
    if (rc == 0)
        rc = sg_model_set_cuda_graphs(m, graphs);
    if (rc == 0)
        rc = sg_model_set_train(m, 1);
    if (rc == 0)
        rc = sg_optim_create(&o, m, &os);
    double loss = 0.0, total = 0.0;
    for (int s = 0; rc == 0 && s < steps + warmup; s++) {
        double t0 = now_s();
        rc = sg_model_train_step(m, o, x, n, c, h, w, y, 0.0, &loss, NULL);
        if (s >= warmup) {
            dt[s - warmup] = now_s() - t0;
            total += dt[s - warmup];
        }
    }
    if (rc != 0) {
        fprintf(stderr, "bench_train: %s\n", sg_last_error());
    } else {
        qsort(dt, (size_t)steps, sizeof *dt, cmp_double);
        double med = steps % 2 ? dt[steps / 2] : 0.5 * (dt[steps / 2 - 1] + dt[steps / 2]);
        printf("images_per_s=%.3f median_ms=%.4f mean_ms=%.4f loss=%.4f", (double)n / med,
               1e3 * med, 1e3 * total / steps, loss);
        sg_cuda_graph_stats st;
        if (graphs != SG_CUDA_GRAPHS_OFF && sg_optim_cuda_graph_stats(o, &st) == 0)
            printf(" graphs=%ld/%ld/%ld", st.captures, st.replays, st.eager);
        printf("\n");
    }
    sg_optim_free(o);
    sg_model_free(m);
    sg_host_free(x);
    free(y);
    free(dt);
    return rc == 0 ? 0 : 1;
}
