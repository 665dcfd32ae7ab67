/* sg_run.h - running the sensorgram binary from tests and reading back
 * what it wrote (for the end-to-end and bad-input tests).
 */
#ifndef SG_RUN_H
#define SG_RUN_H

#include "tests/sg_test.h"

#include <stdarg.h>
#include <sys/wait.h>

/* Reads a whole file into a malloc'd string (caller frees); NULL if absent. */
static inline char *sg_test_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)(n > 0 ? n : 0) + 1);
    assert_non_null(buf);
    size_t got = fread(buf, 1, (size_t)(n > 0 ? n : 0), f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

/* Copies the DSA segments of the given activities and subjects
 * (space-separated folder names: "a01 a02", "p1 p2") into dest/aNN/pM/,
 * from data/dsa (make data) or else from the shared tarball.  Returns 0,
 * or -1 where neither source is there (the caller skips its tests). */
static inline int sg_test_dsa_subset(const char *dest, const char *activities,
                                     const char *subjects)
{
    char tarball[4096], cmd[12000];
    snprintf(tarball, sizeof tarball, "%s/data/daily-sports-activities-p1-p6.tar.xz",
             sg_test_shared());
    if (sg_test_path_exists("data/dsa/a01/p1/s01.txt")) {
        snprintf(cmd, sizeof cmd,
                 "for a in %s; do for p in %s; do mkdir -p '%s'/$a && "
                 "cp -r data/dsa/$a/$p '%s'/$a/ || exit 1; done; done",
                 activities, subjects, dest, dest);
    } else if (sg_test_path_exists(tarball)) {
        /* set -f: the member patterns reach tar unexpanded */
        snprintf(cmd, sizeof cmd,
                 "set -f; pats=; for a in %s; do for p in %s; do pats=\"$pats data/$a/$p/*\"; "
                 "done; done; mkdir -p '%s' && tar -xJf '%s' -C '%s' --strip-components=1 "
                 "--wildcards $pats",
                 activities, subjects, dest, tarball, dest);
    } else {
        return -1;
    }
    return system(cmd) == 0 ? 0 : -1;
}

/* Skips the current test where dir is "": the fixture's
 * sg_test_dsa_subset found no DSA data to copy. */
#define SG_REQUIRE_DSA(dir)                                                               \
    do {                                                                                  \
        if (!(dir)[0]) {                                                                  \
            print_message("SKIP: no DSA data (data/dsa or %s/data/*.tar.xz)\n",          \
                          sg_test_shared());                                              \
            skip();                                                                       \
        }                                                                                 \
    } while (0)

/* Runs `sh -c "PREFIX SG_BIN ARGS"` with stdout+stderr captured; returns
 * the exit status (128 + signal when killed) and the output in *out
 * (caller frees; may be NULL to discard).  prefix may hold shell set-up
 * such as "ulimit -f 100;". */
static inline int sg_test_run(char **out, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline int sg_test_run(char **out, const char *prefix, const char *fmt, ...)
{
    char args[8192], log[64], cmd[9000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(log, sizeof log, "/tmp/sgtest_log.XXXXXX");
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    /* Leak checks of libtorch's process-lifetime pools are suppressed in
     * tests/lsan.supp; the binary under ASan inherits ASAN_OPTIONS. */
    snprintf(cmd, sizeof cmd, "%s %s %s >%s 2>&1", prefix ? prefix : "", sg_test_bin(), args,
             log);
    int st = system(cmd);
    char *text = sg_test_slurp(log);
    unlink(log);
    if (out)
        *out = text;
    else
        free(text);
    if (st == -1)
        return -1;
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

/* Fails with the command's output unless `text` contains `needle`. */
#define SG_ASSERT_CONTAINS(text, needle)                                                  \
    do {                                                                                  \
        if (!(text) || !strstr((text), (needle))) {                                       \
            print_error("expected output containing \"%s\", got:\n%s\n", (needle),        \
                        (text) ? (text) : "(none)");                                      \
            fail();                                                                       \
        }                                                                                 \
    } while (0)

/* Fails with the output when the exit status is not `want`. */
#define SG_ASSERT_EXIT(got, want, text)                                                   \
    do {                                                                                  \
        if ((got) != (want)) {                                                            \
            print_error("expected exit status %d, got %d; output:\n%s\n", (want), (got), \
                        (text) ? (text) : "(none)");                                      \
            fail();                                                                       \
        }                                                                                 \
    } while (0)

#endif
