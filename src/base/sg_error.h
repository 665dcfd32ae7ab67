/* sg_error.h - status codes and the thread-local error message.
 *
 * Library code (everything but src/cli/main.c and the cmd_* entry points)
 * never prints and never exits: it returns 0 on success or a negative
 * SG_E* code, and leaves a one-line, human-readable message that names
 * the file, line and column where there is one.  The message lives in
 * a thread-local buffer, so worker threads never overwrite each other's
 * errors, and there is no other mutable global state.
 */
#ifndef SG_ERROR_H
#define SG_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum sg_status {
    SG_OK = 0,
    SG_E_IO = -1,          /* open/read/write/rename failed */
    SG_E_PARSE = -2,       /* malformed input text or file */
    SG_E_INVALID = -3,     /* bad argument or option value */
    SG_E_NOMEM = -4,       /* allocation failed */
    SG_E_UNSUPPORTED = -5, /* feature not built in (e.g. NO_TORCH) */
    SG_E_TORCH = -6,       /* libtorch raised an exception */
    SG_E_SHAPE = -7,       /* tensor/image shape mismatch */
    SG_E_NUMERIC = -8,     /* NaN/Inf or other numeric failure */
    SG_E_CORRUPT = -9,     /* weights/checkpoint file failed validation */
    SG_E_INTERRUPTED = -10, /* SIGINT/SIGTERM asked us to stop (exit 130) */
};

/* Stores a printf-style message as this thread's last error and returns
 * code, so that callers can write `return sg_fail(SG_E_IO, "...")`. */
int sg_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to this thread's last error (to add context such
 * as a file name on the way up) and returns code unchanged. */
int sg_fail_context(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns this thread's last error message ("" when none).  The pointer
 * stays valid until the next sg_fail* call on the same thread. */
const char *sg_last_error(void);

/* Clears this thread's last error. */
void sg_error_clear(void);

/* A short name for a status code ("I/O error", "parse error", ...). */
const char *sg_status_name(int code);

#ifdef __cplusplus
}
#endif

#endif
