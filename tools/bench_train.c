/* bench_train.c - training-step throughput of sensorgram's ResNet (C via
 * the libtorch bridge); tools/bench_train.py is the PyTorch side and
 * tools/bench_train.sh runs both and prints the ratio.
 *
 * usage: bench_train ARCH BATCH C H W STEPS THREADS
 * prints: images_per_s=<value>
 * Train mode, SGD (lr 0.01, momentum 0.9), random inputs and labels,
 * 2 warm-up steps, then STEPS timed steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "src/base/sg_error.h"
#include "models/sg_model.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: bench_train ARCH BATCH C H W STEPS THREADS\n");
        return 2;
    }
    sg_arch arch;
    if (sg_arch_parse(&arch, argv[1]) != 0) {
        fprintf(stderr, "bench_train: %s\n", sg_last_error());
        return 2;
    }
    int n = atoi(argv[2]), c = atoi(argv[3]), h = atoi(argv[4]), w = atoi(argv[5]);
    int steps = atoi(argv[6]), threads = atoi(argv[7]);
    const int n_classes = 19;
    size_t numel = (size_t)n * (size_t)c * (size_t)h * (size_t)w;
    float *x = malloc(numel * sizeof *x);
    int64_t *y = malloc((size_t)n * sizeof *y);
    if (!x || !y || n <= 0 || steps <= 0) {
        fprintf(stderr, "bench_train: bad arguments or out of memory\n");
        return 2;
    }
    srand(1);
    for (size_t i = 0; i < numel; i++)
        x[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    for (int i = 0; i < n; i++)
        y[i] = i % n_classes;
    sg_model_spec spec = {.arch = arch, .in_channels = c, .n_classes = n_classes, .device = "cpu",
                          .n_threads = threads};
    sg_model *m = NULL;
    sg_optim *o = NULL;
    sg_optim_spec os = {.kind = SG_OPTIM_SGD, .lr = 0.01, .momentum = 0.9};
    int rc = sg_model_create(&m, &spec);
    if (rc == 0)
        rc = sg_model_set_train(m, 1);
    if (rc == 0)
        rc = sg_optim_create(&o, m, &os);
    double loss = 0.0, t0 = 0.0;
    for (int s = 0; rc == 0 && s < steps + 2; s++) {
        if (s == 2)
            t0 = now_s();
        rc = sg_model_train_step(m, o, x, n, c, h, w, y, 0.0, &loss, NULL);
    }
    double dt = now_s() - t0;
    if (rc != 0)
        fprintf(stderr, "bench_train: %s\n", sg_last_error());
    else
        printf("images_per_s=%.3f loss=%.4f\n", (double)n * steps / dt, loss);
    sg_optim_free(o);
    sg_model_free(m);
    free(x);
    free(y);
    return rc == 0 ? 0 : 1;
}
