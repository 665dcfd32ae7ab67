/* sg_test_models.h - helpers of the model tests (test_models*.c,
 * test_optim.c): run the torchvision oracle, read its raw arrays. */
#ifndef SG_TEST_MODELS_H
#define SG_TEST_MODELS_H

#include "tests/sg_test.h"

#include "models/sg_model.h"

/* Skips the current test in a NO_TORCH build. */
#define SG_REQUIRE_TORCH()                                                     \
    do {                                                                       \
        if (!sg_torch_available()) {                                           \
            print_message("SKIP: sensorgram built without libtorch\n");       \
            skip();                                                            \
        }                                                                      \
    } while (0)

/* The device the model tests run on: SG_TEST_DEVICE (cpu, cuda, cuda:N;
 * tools/gpu_check.sh sets cuda), cpu when unset, as on the CPU CI.  The
 * oracle (tools/oracle_models.py) reads the same variable and computes
 * torchvision's values on that device. */
static inline const char *sg_test_device(void)
{
    const char *d = getenv("SG_TEST_DEVICE");
    return d && *d ? d : "cpu";
}

static inline int sg_test_on_cuda(void)
{
    return strncmp(sg_test_device(), "cuda", 4) == 0;
}

/* Skips the current test unless SG_TEST_DEVICE names a CUDA device; fails
 * when it does but libtorch sees none (a GPU run must not skip quietly). */
#define SG_REQUIRE_CUDA()                                                      \
    do {                                                                       \
        SG_REQUIRE_TORCH();                                                    \
        if (!sg_test_on_cuda()) {                                              \
            print_message("SKIP: CUDA only (SG_TEST_DEVICE=cuda, tools/gpu_check.sh)\n"); \
            skip();                                                            \
        }                                                                      \
        if (!sg_cuda_available()) {                                            \
            print_error("SG_TEST_DEVICE=%s but libtorch sees no CUDA device\n", \
                        sg_test_device());                                     \
            fail();                                                            \
        }                                                                      \
    } while (0)

/* float32 on CUDA is compared at the CPU tolerance: TF32 off on both
 * sides (the oracle turns it off too). */
static inline void sg_test_device_setup(void)
{
    if (sg_torch_available() && sg_test_on_cuda())
        sg_torch_set_tf32(0);
}

/* Runs tools/oracle_models.py OUT CMDS... with SG_PYTHON; 0 on success. */
static inline int sg_oracle_run(const char *out, const char *cmds)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s tools/oracle_models.py '%s' %s", sg_test_python(), out, cmds);
    return system(cmd);
}

/* Reads OUT/NAME.f32 (n float32 values, exactly) as doubles; caller frees. */
static inline double *sg_oracle_read(const char *dir, const char *name, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.f32", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        print_error("cannot open oracle file %s\n", path);
        return NULL;
    }
    float *tmp = malloc(n * sizeof *tmp);
    double *out = malloc(n * sizeof *out);
    size_t got = tmp ? fread(tmp, sizeof *tmp, n, f) : 0;
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (!tmp || !out || got != n || extra) {
        print_error("%s: expected exactly %zu float32 values\n", path, n);
        free(tmp);
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[i];
    free(tmp);
    return out;
}

/* Same as sg_oracle_read but as float32 (model inputs). */
static inline float *sg_oracle_read_f32(const char *dir, const char *name, size_t n)
{
    double *d = sg_oracle_read(dir, name, n);
    float *f = d ? malloc(n * sizeof *f) : NULL;
    for (size_t i = 0; f && i < n; i++)
        f[i] = (float)d[i];
    free(d);
    return f;
}

/* Largest |value| of want: the scale for a relative tolerance over a
 * whole tensor (logits near zero make per-element rtol meaningless). */
static inline double sg_max_abs(const double *want, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fabs(want[i]) > m ? fabs(want[i]) : m;
    return m;
}


/* State of a test group that runs the oracle once in its setup. */
typedef struct sg_oracle_fixture {
    char *dir;          /* oracle output folder (removed in teardown) */
    int oracle_ok;      /* the oracle ran and succeeded */
    const char *what;   /* oracle commands, for the failure message */
} sg_oracle_fixture;

/* Group setup: a temporary folder, and the oracle commands `cmds` run
 * there when torch and the Python modules `modules` are present. */
static inline int sg_oracle_setup(void **state, const char *modules, const char *cmds)
{
    sg_oracle_fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->dir = sg_test_tmpdir();
    fx->what = cmds;
    if (sg_torch_available() && sg_test_python_has(modules))
        fx->oracle_ok = sg_oracle_run(fx->dir, cmds) == 0;
    *state = fx;
    return 0;
}

/* Group teardown of sg_oracle_setup. */
static inline int sg_oracle_teardown(void **state)
{
    sg_oracle_fixture *fx = *state;
    sg_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* Skips without torch or the Python modules; fails when the oracle did. */
#define SG_REQUIRE_ORACLE(fx, modules)                                         \
    do {                                                                       \
        SG_REQUIRE_TORCH();                                                    \
        SG_REQUIRE_PYTHON(modules);                                            \
        if (!(fx)->oracle_ok) {                                                \
            print_error("tools/oracle_models.py %s failed\n", (fx)->what);     \
            fail();                                                            \
        }                                                                      \
    } while (0)

#endif
