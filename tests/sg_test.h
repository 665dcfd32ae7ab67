/* sg_test.h - helpers shared by the cmocka test programs.
 *
 * Each tests/test_*.c is one cmocka program.  Reference data comes from
 * ../shared (SG_SHARED) and from Python oracles run through SG_PYTHON;
 * tests that need either skip with a message naming what is missing.
 */
#ifndef SG_TEST_H
#define SG_TEST_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

/* The shared folder beside the checkout (SG_SHARED, default ../shared). */
static inline const char *sg_test_shared(void)
{
    const char *s = getenv("SG_SHARED");
    return (s && *s) ? s : "../shared";
}

/* The Python with the oracles (SG_PYTHON, default /usr/bin/python3). */
static inline const char *sg_test_python(void)
{
    const char *s = getenv("SG_PYTHON");
    return (s && *s) ? s : "/usr/bin/python3";
}

/* The sensorgram binary under test (SG_BIN, default ./sensorgram). */
static inline const char *sg_test_bin(void)
{
    const char *s = getenv("SG_BIN");
    return (s && *s) ? s : "./sensorgram";
}

static inline int sg_test_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Skips the current test with a message unless path exists. */
#define SG_REQUIRE_PATH(path)                                                  \
    do {                                                                       \
        if (!sg_test_path_exists(path)) {                                      \
            print_message("SKIP: %s is absent\n", (path));                    \
            skip();                                                            \
        }                                                                      \
    } while (0)

/* 1 when SG_PYTHON can import the given modules (e.g. "torch,torchvision"). */
static inline int sg_test_python_has(const char *modules)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -c 'import %s' >/dev/null 2>&1", sg_test_python(), modules);
    return system(cmd) == 0;
}

#define SG_REQUIRE_PYTHON(modules)                                             \
    do {                                                                       \
        if (!sg_test_python_has(modules)) {                                    \
            print_message("SKIP: %s cannot import %s (install with make deps)\n", \
                          sg_test_python(), (modules));                       \
            skip();                                                            \
        }                                                                      \
    } while (0)

/* Makes a fresh temporary directory; the caller frees the string. */
static inline char *sg_test_tmpdir(void)
{
    char *t = strdup("/tmp/sgtest.XXXXXX");
    assert_non_null(t);
    assert_non_null(mkdtemp(t));
    return t;
}

static inline void sg_test_rmtree(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Compares n values with absolute tolerance atol plus relative rtol;
 * on mismatch prints the worst index, expected and got, and fails. */
static inline void sg_assert_close(const char *what, const float *got, const double *want,
                                   size_t n, double atol, double rtol)
{
    size_t worst = 0;
    double worst_excess = -1.0, worst_diff = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        double tol = atol + rtol * fabs(want[i]);
        double excess = (d != d) ? INFINITY : d - tol;
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = i;
            worst_diff = d;
        }
    }
    if (worst_excess > 0.0) {
        print_error("%s: mismatch at %zu: expected %.9g, got %.9g (|diff| %.3g > tol)\n",
                    what, worst, want[worst], (double)got[worst], worst_diff);
        fail();
    }
}

/* sg_assert_close for double values (series as read, before encoding). */
static inline void sg_assert_close_d(const char *what, const double *got, const double *want,
                                     size_t n, double atol, double rtol)
{
    size_t worst = 0;
    double worst_excess = -1.0, worst_diff = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(got[i] - want[i]);
        double tol = atol + rtol * fabs(want[i]);
        double excess = (d != d) ? INFINITY : (tol == 0.0 && d == 0.0 ? -1.0 : d - tol);
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = i;
            worst_diff = d;
        }
    }
    if (worst_excess > 0.0 || (worst_excess == 0.0 && worst_diff > 0.0)) {
        print_error("%s: mismatch at %zu: expected %.17g, got %.17g (|diff| %.3g > tol)\n",
                    what, worst, want[worst], got[worst], worst_diff);
        fail();
    }
}

#endif
