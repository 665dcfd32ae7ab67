/* out_dir.c - emptiness checks and stale-temporary sweeps (see out_dir.h). */
#include "src/base/out_dir.h"

#include "src/base/sg_error.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Digits only, at least one; *end gets the first non-digit. */
static int digits(const char *s, const char **end, long *value)
{
    const char *p = s;
    long v = 0;
    while (*p >= '0' && *p <= '9') {
        if (v > 100000000L)
            return 0;
        v = v * 10 + (*p - '0');
        p++;
    }
    *end = p;
    *value = v;
    return p > s;
}

int sg_tmp_name_parse(const char *name, long *pid)
{
    if (name[0] != '.' || name[1] == '\0')
        return 0;
    /* The last ".tmp" followed by digits '.' digits and the end. */
    const char *t = NULL;
    for (const char *p = strstr(name + 1, ".tmp"); p; p = strstr(p + 1, ".tmp"))
        t = p;
    if (!t || t == name + 1)
        return 0;
    const char *e;
    long v, k;
    if (!digits(t + 4, &e, &v) || *e != '.' || !digits(e + 1, &e, &k) || *e != '\0')
        return 0;
    *pid = v;
    return 1;
}

static int pid_alive(long pid)
{
    if (pid <= 0)
        return 0;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

int sg_tmp_sweep(const char *dir, int depth, int any_pid, size_t *removed)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR
                   ? SG_OK
                   : sg_fail(SG_E_IO, "%s: cannot list the folder: %s", dir, strerror(errno));
    int rc = SG_OK;
    long self = (long)getpid();
    struct dirent *e;
    while (rc == SG_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        struct stat st;
        long pid;
        if (lstat(path, &st) != 0) {
            free(path);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (depth > 0)
                rc = sg_tmp_sweep(path, depth - 1, any_pid, removed);
        } else if (S_ISREG(st.st_mode) && sg_tmp_name_parse(e->d_name, &pid) && pid != self &&
                   (any_pid || !pid_alive(pid))) {
            if (unlink(path) != 0 && errno != ENOENT)
                rc = sg_fail(SG_E_IO, "%s: cannot remove a stale temporary: %s", path,
                             strerror(errno));
            else if (removed)
                (*removed)++;
        }
        free(path);
    }
    closedir(d);
    return rc;
}

static int dir_empty_rec(const char *dir, int *empty, int level)
{
    DIR *d = opendir(dir);
    if (!d) {
        /* Missing, or not a folder: whoever creates it reports that. */
        if (errno == ENOENT || errno == ENOTDIR)
            return SG_OK;
        return sg_fail(SG_E_IO, "%s: cannot list the folder: %s", dir, strerror(errno));
    }
    int rc = SG_OK;
    struct dirent *e;
    while (rc == SG_OK && *empty && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && level < 8)
            rc = dir_empty_rec(path, empty, level + 1);
        else
            *empty = 0;
        free(path);
    }
    closedir(d);
    return rc;
}

int sg_dir_is_empty(const char *dir, int *empty)
{
    *empty = 1;
    return dir_empty_rec(dir, empty, 0);
}
