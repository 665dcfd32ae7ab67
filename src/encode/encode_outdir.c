/* encode_outdir.c - encode output folders (see encode_outdir.h). */
#include "src/encode/encode_outdir.h"

#include "src/base/atomic_file.h"
#include "src/base/csv_table.h"
#include "src/base/out_dir.h"
#include "src/base/sg_error.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A manifest path we may delete: relative, inside outdir, no "..". */
static int safe_rel(const char *rel)
{
    if (!rel[0] || rel[0] == '/')
        return 0;
    for (const char *p = rel; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == rel || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
            return 0;
    return 1;
}

/* Removes rel (and its folder when that becomes empty). */
static int remove_rel(const char *outdir, const char *rel)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", outdir, rel) < 0)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int rc = SG_OK;
    struct stat st;
    /* Only a file: whatever else sits under a listed name is not ours. */
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) != 0 && errno != ENOENT)
        rc = sg_fail(SG_E_IO, "%s: cannot remove: %s", path, strerror(errno));
    char *slash = strrchr(path, '/');
    if (rc == SG_OK && slash && slash > path + strlen(outdir)) {
        *slash = '\0';
        rmdir(path); /* fails, harmlessly, while it holds anything else */
    }
    free(path);
    return rc;
}

static int remove_listed(const char *outdir, const char *manifest)
{
    csv_table t;
    int col;
    int rc = csv_table_read(&t, manifest);
    int stacked = 0;
    if (rc == SG_OK && csv_table_column(&t, "path") < 0 && csv_table_column(&t, "index") >= 0) {
        /* a stacked encode (--stack): its rows live in X.npy, with y.csv */
        stacked = 1;
        rc = remove_rel(outdir, "X.npy");
        if (rc == SG_OK)
            rc = remove_rel(outdir, "y.csv");
    }
    if (rc == SG_OK && !stacked)
        rc = csv_table_require_column(&t, "path", &col);
    for (size_t r = 0; rc == SG_OK && !stacked && r < t.n_rows; r++) {
        const char *rel = csv_table_cell(&t, r, col);
        if (safe_rel(rel))
            rc = remove_rel(outdir, rel);
    }
    csv_table_free(&t);
    if (rc)
        return sg_fail_context(rc, "--overwrite");
    if (unlink(manifest) != 0 && errno != ENOENT)
        return sg_fail(SG_E_IO, "%s: cannot remove: %s", manifest, strerror(errno));
    return SG_OK;
}

static int is_image_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 4 &&
           (strcmp(name + n - 4, ".png") == 0 || strcmp(name + n - 4, ".npy") == 0);
}

/* An unfinished encode has no manifest: its images are the .png/.npy
 * files of its label folders (one level down, as encode writes them). */
static int remove_unlisted_images(const char *outdir)
{
    DIR *d = opendir(outdir);
    if (!d)
        return sg_fail(SG_E_IO, "%s: cannot list the folder: %s", outdir, strerror(errno));
    int rc = SG_OK;
    struct dirent *e;
    while (rc == SG_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *sub = NULL;
        if (asprintf(&sub, "%s/%s", outdir, e->d_name) < 0) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        DIR *s = opendir(sub);
        struct dirent *f;
        while (s && rc == SG_OK && (f = readdir(s)) != NULL) {
            if (!is_image_name(f->d_name))
                continue;
            char *rel = NULL;
            if (asprintf(&rel, "%s/%s", e->d_name, f->d_name) < 0) {
                rc = sg_fail(SG_E_NOMEM, "out of memory");
                break;
            }
            rc = remove_rel(outdir, rel);
            free(rel);
        }
        if (s)
            closedir(s);
        free(sub);
    }
    closedir(d);
    return rc;
}

int encode_outdir_guard(const char *outdir, int overwrite)
{
    int rc = sg_tmp_sweep(outdir, 1, 0, NULL);
    int empty = 1;
    if (rc == SG_OK)
        rc = sg_dir_is_empty(outdir, &empty);
    if (rc || empty || overwrite)
        return rc;
    return sg_fail(SG_E_INVALID,
                   "%s is not empty (an earlier encode?): --overwrite replaces what its manifest "
                   "lists, or choose another -o folder",
                   outdir);
}

int encode_outdir_clear(const char *outdir)
{
    char *manifest = NULL, *marker = NULL;
    int rc = SG_OK;
    if (asprintf(&manifest, "%s/manifest.csv", outdir) < 0)
        manifest = NULL;
    if (asprintf(&marker, "%s/" SG_ENCODE_MARKER, outdir) < 0)
        marker = NULL;
    if (!manifest || !marker)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    else if (exists(manifest))
        rc = remove_listed(outdir, manifest);
    else if (exists(marker))
        rc = remove_unlisted_images(outdir);
    free(manifest);
    free(marker);
    return rc;
}

void encode_outdir_discard(const char *outdir, char *const *rel, size_t n)
{
    char msg[2048];
    snprintf(msg, sizeof msg, "%s", sg_last_error());
    for (size_t i = 0; i < n; i++)
        if (rel[i])
            remove_rel(outdir, rel[i]);
    encode_mark_done(outdir);
    sg_fail(SG_E_IO, "%s", msg); /* the code is the caller's; keep its message */
}

int encode_mark_start(const char *outdir)
{
    char *path = NULL;
    if (asprintf(&path, "%s/" SG_ENCODE_MARKER, outdir) < 0)
        return sg_fail(SG_E_NOMEM, "out of memory");
    static const char text[] =
        "sensorgram encode is writing this folder; manifest.csv marks it finished.\n";
    int rc = sg_atomic_write(path, text, sizeof text - 1);
    free(path);
    return rc;
}

int encode_mark_done(const char *outdir)
{
    char *path = NULL;
    if (asprintf(&path, "%s/" SG_ENCODE_MARKER, outdir) < 0)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int rc = SG_OK;
    if (unlink(path) != 0 && errno != ENOENT)
        rc = sg_fail(SG_E_IO, "%s: cannot remove: %s", path, strerror(errno));
    free(path);
    return rc;
}

int encode_check_unfinished(const char *root, int photos)
{
    char *manifest = NULL, *marker = NULL;
    if (asprintf(&manifest, "%s/manifest.csv", root) < 0)
        manifest = NULL;
    if (asprintf(&marker, "%s/" SG_ENCODE_MARKER, root) < 0)
        marker = NULL;
    int rc = SG_OK;
    if (!manifest || !marker)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    else if (!photos && !exists(manifest) && exists(marker))
        rc = sg_fail(SG_E_INVALID,
                     "%s: an encode folder without manifest.csv is not a finished run "
                     "(interrupted or failed encode): encode it again, or pass --photos to "
                     "read it as photo class folders",
                     root);
    free(manifest);
    free(marker);
    return rc;
}
