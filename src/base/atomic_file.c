/* atomic_file.c - temporary name + fsync + rename (see atomic_file.h).
 *
 * The temporary name carries the pid and a per-call counter so that
 * parallel workers writing into one folder never collide; it starts with
 * a dot so that a crashed run's leftovers are not taken for images.
 */
#include "src/base/atomic_file.h"
#include "src/base/sg_error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *make_tmp_path(const char *path)
{
    /* The counter is the one shared piece of state and is atomic: it only
     * makes names unique within the process. */
    static atomic_ulong counter;
    unsigned long k = atomic_fetch_add(&counter, 1);
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path + 1) : 0;
    const char *base = path + dir_len;
    size_t n = strlen(path) + 64;
    char *tmp = malloc(n);
    if (!tmp)
        return NULL;
    snprintf(tmp, n, "%.*s.%s.tmp%ld.%lu", (int)dir_len, path, base, (long)getpid(), k);
    return tmp;
}

static void atomic_clear(sg_atomic_file *af)
{
    free(af->path);
    free(af->tmp_path);
    af->path = NULL;
    af->tmp_path = NULL;
    af->fp = NULL;
}

int sg_atomic_open(sg_atomic_file *af, const char *path)
{
    memset(af, 0, sizeof *af);
    af->path = strdup(path);
    af->tmp_path = make_tmp_path(path);
    if (!af->path || !af->tmp_path) {
        atomic_clear(af);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    af->fp = fopen(af->tmp_path, "wb");
    if (!af->fp) {
        int e = errno;
        atomic_clear(af);
        return sg_fail(SG_E_IO, "%s: cannot write: %s", path, strerror(e));
    }
    return SG_OK;
}

int sg_atomic_commit(sg_atomic_file *af)
{
    int rc = SG_OK;
    if (!af->fp)
        return sg_fail(SG_E_INVALID, "atomic commit without an open file");
    int err = ferror(af->fp);
    int e = errno;
    if (fflush(af->fp) != 0 && !err) {
        err = 1;
        e = errno;
    }
    if (!err && !af->no_fsync && fsync(fileno(af->fp)) != 0 && errno != EINVAL) {
        err = 1;
        e = errno;
    }
    if (fclose(af->fp) != 0 && !err) {
        err = 1;
        e = errno;
    }
    af->fp = NULL;
    if (err) {
        /* errno may be stale when the error came from an earlier buffered
         * write (ferror): say so rather than print "Success". */
        rc = sg_fail(SG_E_IO, "%s: write failed: %s", af->path,
                     e ? strerror(e) : "an earlier write to the file failed");
        unlink(af->tmp_path);
    } else if (rename(af->tmp_path, af->path) != 0) {
        e = errno;
        rc = sg_fail(SG_E_IO, "%s: cannot rename into place: %s", af->path, strerror(e));
        unlink(af->tmp_path);
    }
    atomic_clear(af);
    return rc;
}

void sg_atomic_abort(sg_atomic_file *af)
{
    if (af->fp)
        fclose(af->fp);
    if (af->tmp_path)
        unlink(af->tmp_path);
    atomic_clear(af);
}

int sg_atomic_write(const char *path, const void *data, size_t size)
{
    sg_atomic_file af;
    int rc = sg_atomic_open(&af, path);
    if (rc)
        return rc;
    if (size && fwrite(data, 1, size, af.fp) != size) {
        int e = errno;
        sg_atomic_abort(&af);
        return sg_fail(SG_E_IO, "%s: write failed: %s", path, strerror(e));
    }
    return sg_atomic_commit(&af);
}

int sg_mkdir_p(const char *dir)
{
    char *p = strdup(dir);
    if (!p)
        return sg_fail(SG_E_NOMEM, "out of memory");
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    for (char *s = p + 1;; s++) {
        char c = *s;
        if (c == '/' || c == '\0') {
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                int e = errno;
                int rc = sg_fail(SG_E_IO, "%s: cannot create folder: %s", p, strerror(e));
                free(p);
                return rc;
            }
            struct stat st;
            if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
                int rc = sg_fail(SG_E_IO, "%s: exists and is not a folder", p);
                free(p);
                return rc;
            }
            *s = c;
        }
        if (c == '\0')
            break;
    }
    free(p);
    return SG_OK;
}

int sg_sync_folder(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return sg_fail(SG_E_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    int rc = SG_OK;
    if (syncfs(fd) != 0)
        rc = sg_fail(SG_E_IO, "%s: sync failed: %s", dir, strerror(errno));
    close(fd);
    return rc;
}
