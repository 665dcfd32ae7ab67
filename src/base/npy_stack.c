/* npy_stack.c - row-by-row .npy writing and row reading (npy_stack.h). */
#include "src/base/npy_stack.h"
#include "src/base/npy.h"
#include "src/base/sg_error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sg_npy_stack_open(sg_npy_stack *s, const char *path, int row_ndim, const size_t *row_shape)
{
    memset(s, 0, sizeof *s);
    if (row_ndim < 0 || row_ndim > SG_NPY_STACK_MAX_DIMS)
        return sg_fail(SG_E_SHAPE, "%s: %d dims per row (at most %d)", path, row_ndim,
                       SG_NPY_STACK_MAX_DIMS);
    s->row_ndim = row_ndim;
    s->row_bytes = sizeof(float);
    for (int i = 0; i < row_ndim; i++) {
        s->row_shape[i] = row_shape[i];
        s->row_bytes *= row_shape[i];
    }
    s->fd = -1;
    int rc = sg_atomic_open(&s->af, path);
    if (rc)
        return rc;
    /* af's stream is write-only; closing gaps at commit also reads */
    s->fd = open(s->af.tmp_path, O_RDWR | O_CLOEXEC);
    if (s->fd < 0) {
        rc = sg_fail(SG_E_IO, "%s: cannot reopen %s: %s", path, s->af.tmp_path, strerror(errno));
        sg_atomic_abort(&s->af);
        return rc;
    }
    /* a placeholder header (N = 0) until commit knows N */
    size_t shape[SG_NPY_STACK_MAX_DIMS + 1] = {0};
    memcpy(shape + 1, s->row_shape, sizeof(size_t) * (size_t)row_ndim);
    unsigned char head[SG_NPY_STACK_HEADER];
    rc = sg_npy_header(head, sizeof head, row_ndim + 1, shape);
    if (rc >= 0 && pwrite(s->fd, head, sizeof head, 0) != (ssize_t)sizeof head)
        rc = sg_fail(SG_E_IO, "%s: write failed: %s", path, strerror(errno));
    if (rc < 0) {
        sg_npy_stack_abort(s);
        return rc;
    }
    return SG_OK;
}

static int pwrite_all(int fd, const void *buf, size_t n, off_t at)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
        at += w;
    }
    return 0;
}

static int pread_all(int fd, void *buf, size_t n, off_t at)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, at);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
        at += r;
    }
    return 0;
}

int sg_npy_stack_put(sg_npy_stack *s, size_t slot, const float *row)
{
    off_t at = (off_t)SG_NPY_STACK_HEADER + (off_t)(slot * s->row_bytes);
    if (pwrite_all(s->fd, row, s->row_bytes, at) != 0) {
        int e = errno ? errno : EIO;
        __atomic_store_n(&s->err, e, __ATOMIC_RELAXED);
        __atomic_store_n(&s->failed, 1, __ATOMIC_RELEASE);
        return sg_fail(SG_E_IO, "%s: write failed: %s", s->af.path, strerror(e));
    }
    return SG_OK;
}

int sg_npy_stack_commit(sg_npy_stack *s, size_t n_slots, const unsigned char *keep)
{
    int fd = s->fd;
    const char *path = s->af.path;
    int rc = SG_OK;
    if (__atomic_load_n(&s->failed, __ATOMIC_ACQUIRE))
        rc = sg_fail(SG_E_IO, "%s: write failed: %s", path, strerror(s->err));
    /* close the gaps of skipped slots, moving later rows forward in order */
    size_t n = 0;
    void *row = NULL;
    for (size_t i = 0; i < n_slots && !rc; i++) {
        if (keep && !keep[i])
            continue;
        if (n != i) {
            if (!row && !(row = malloc(s->row_bytes ? s->row_bytes : 1))) {
                rc = sg_fail(SG_E_NOMEM, "out of memory");
                break;
            }
            off_t from = (off_t)SG_NPY_STACK_HEADER + (off_t)(i * s->row_bytes);
            off_t to = (off_t)SG_NPY_STACK_HEADER + (off_t)(n * s->row_bytes);
            if (pread_all(fd, row, s->row_bytes, from) != 0 ||
                pwrite_all(fd, row, s->row_bytes, to) != 0)
                rc = sg_fail(SG_E_IO, "%s: moving rows failed: %s", path, strerror(errno));
        }
        n++;
    }
    free(row);
    size_t shape[SG_NPY_STACK_MAX_DIMS + 1];
    shape[0] = n;
    memcpy(shape + 1, s->row_shape, sizeof(size_t) * (size_t)s->row_ndim);
    unsigned char head[SG_NPY_STACK_HEADER];
    if (!rc) {
        int h = sg_npy_header(head, sizeof head, s->row_ndim + 1, shape);
        if (h < 0)
            rc = h;
    }
    if (!rc && (pwrite_all(fd, head, sizeof head, 0) != 0 ||
                ftruncate(fd, (off_t)SG_NPY_STACK_HEADER + (off_t)(n * s->row_bytes)) != 0))
        rc = sg_fail(SG_E_IO, "%s: write failed: %s", path, strerror(errno));
    if (rc) {
        sg_npy_stack_abort(s);
        return rc;
    }
    /* the data went through fd; af's commit fsyncs the file and renames it */
    if (close(fd) != 0) {
        s->fd = -1;
        rc = sg_fail(SG_E_IO, "%s: write failed: %s", path, strerror(errno));
        sg_atomic_abort(&s->af);
        return rc;
    }
    s->fd = -1;
    return sg_atomic_commit(&s->af);
}

void sg_npy_stack_abort(sg_npy_stack *s)
{
    /* a zeroed stack has fd 0 but no temporary file: leave stdin alone */
    if (s->af.tmp_path && s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    sg_atomic_abort(&s->af);
}

int sg_npy_read_row(const char *path, size_t row, float **data, int *row_ndim,
                    size_t row_shape[7])
{
    *data = NULL;
    *row_ndim = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sg_fail(SG_E_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char head[4096];
    struct stat st;
    ssize_t got = fstat(fd, &st) == 0 ? pread(fd, head, sizeof head, 0) : -1;
    int rc = SG_OK;
    sg_npy_info info;
    if (got < 0)
        rc = sg_fail(SG_E_IO, "%s: cannot read: %s", path, strerror(errno));
    if (!rc)
        rc = sg_npy_parse_header(&info, head, (size_t)got, path);
    if (!rc && info.item != 4)
        rc = sg_fail(SG_E_UNSUPPORTED, "%s: float64 array; stacked images must be float32", path);
    if (!rc && (info.ndim < 2 || info.ndim > SG_NPY_STACK_MAX_DIMS + 1))
        rc = sg_fail(SG_E_SHAPE, "%s: a stack of images needs 2 to %d dims, not %d", path,
                     SG_NPY_STACK_MAX_DIMS + 1, info.ndim);
    if (!rc && row >= info.shape[0])
        rc = sg_fail(SG_E_SHAPE, "%s: row %zu outside its %zu rows", path, row, info.shape[0]);
    size_t numel = 1;
    for (int i = 1; !rc && i < info.ndim; i++)
        numel *= info.shape[i];
    if (!rc && ((size_t)st.st_size - info.offset) / sizeof(float) < info.count)
        rc = sg_fail(SG_E_PARSE, "%s: truncated .npy data (expected %zu values)", path,
                     info.count);
    float *out = NULL;
    if (!rc && !(out = malloc(numel ? numel * sizeof(float) : 1)))
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    if (!rc && pread_all(fd, out, numel * sizeof(float),
                         (off_t)(info.offset + row * numel * sizeof(float))) != 0)
        rc = sg_fail(SG_E_IO, "%s: cannot read row %zu: %s", path, row, strerror(errno));
    close(fd);
    if (rc) {
        free(out);
        return rc;
    }
    for (int i = 1; i < info.ndim; i++)
        row_shape[i - 1] = info.shape[i];
    *row_ndim = info.ndim - 1;
    *data = out;
    return SG_OK;
}
