/* explain.c - `sensorgram explain`: the output folder's guard and the
 * choice between occlusion (sensor checkpoints) and Grad-CAM (image
 * checkpoints); see explain.h.  The work is in explain_occlude.c and
 * explain_gradcam.c.  A failed explain leaves OUTDIR as it found it: the
 * folders it created removed, its files removed from one that was there.
 */
#include "src/train/explain.h"
#include "src/base/fs_stat.h"

#include "src/base/atomic_file.h"
#include "src/base/out_dir.h"
#include "src/base/sg_error.h"
#include "src/train/train_ckpt.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void explain_file_stem(char *buf, size_t size, size_t i, const char *name)
{
    /* the last three path components say enough (a01/p1/s01.txt) */
    const char *p = name ? name : "input";
    const char *start = p;
    int slashes = 0;
    for (const char *q = p + strlen(p); q > p; q--)
        if (q[-1] == '/' && ++slashes == 3) {
            start = q;
            break;
        }
    /* without the file's extension: the figure adds its own */
    const char *stop = strrchr(start, '.');
    if (!stop || strchr(stop, '/') || stop == start || stop[-1] == '/')
        stop = start + strlen(start);
    int n = snprintf(buf, size, "%04zu_", i);
    size_t len = n > 0 && (size_t)n < size ? (size_t)n : 0;
    for (const char *q = start; q < stop && len + 1 < size && len < 80; q++) {
        char c = *q;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
        buf[len++] = ok ? c : '_';
    }
    if (size)
        buf[len < size ? len : size - 1] = '\0';
}

/* The files an earlier explain wrote in dir (nothing else): its CSV
 * files and summary figure, and figures/ and gradcam/ entries named
 * NNNN_... . */
static void remove_explain_files(const char *dir)
{
    static const char *const files[] = {"inputs.csv", "channels.csv", "groups.csv",
                                        "windows.csv", "summary.csv", "summary.png",
                                        "summary.svg", "summary.pdf", "gradcam.csv"};
    char path[4608];
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        unlink(path);
    }
    static const char *const subs[] = {"figures", "gradcam"};
    for (size_t k = 0; k < 2; k++) {
        char sub[4352];
        snprintf(sub, sizeof sub, "%s/%s", dir, subs[k]);
        DIR *d = opendir(sub);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            const char *nm = e->d_name;
            if (strspn(nm, "0123456789") == 4 && nm[4] == '_') {
                snprintf(path, sizeof path, "%s/%s", sub, nm);
                unlink(path);
            }
        }
        if (d)
            closedir(d);
    }
}

/* What OUTDIR was before this run, so that a failure can undo it. */
typedef struct explain_out {
    char top[4096];  /* the shallowest folder on the way to OUTDIR that this run
                      * creates ("" when OUTDIR was there) */
    int had_sub[2];  /* figures/, gradcam/ were there */
} explain_out;

static const char *const explain_subs[2] = {"figures", "gradcam"};

/* Notes which of dir and its parents are missing, before any is made. */
static void explain_out_note(explain_out *st, const char *dir)
{
    memset(st, 0, sizeof *st);
    char sub[4352];
    for (int k = 0; k < 2; k++) {
        snprintf(sub, sizeof sub, "%s/%s", dir, explain_subs[k]);
        st->had_sub[k] = sg_is_dir(sub);
    }
    if (sg_is_dir(dir) || strlen(dir) >= sizeof st->top)
        return;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char save = *p;
        *p = '\0';
        if (access(buf, F_OK) != 0) {
            snprintf(st->top, sizeof st->top, "%s", buf);
            return;
        }
        if (save == '\0')
            return;
        *p = save;
    }
}

/* After a failure: explain's files out of dir, then the folders this run
 * made (rmdir only: a folder that holds anything else stays). */
static void explain_out_undo(const char *dir, const explain_out *st)
{
    remove_explain_files(dir);
    char sub[4352];
    for (int k = 0; k < 2; k++)
        if (!st->had_sub[k]) {
            snprintf(sub, sizeof sub, "%s/%s", dir, explain_subs[k]);
            rmdir(sub);
        }
    if (!st->top[0])
        return;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    size_t top_len = strlen(st->top);
    for (;;) {
        rmdir(buf);
        char *slash = strrchr(buf, '/');
        if (strlen(buf) <= top_len || !slash)
            break;
        *slash = '\0';
    }
}

/* OUTDIR exists and holds nothing of anyone's, unless --overwrite (which
 * removes what an earlier explain wrote there first). */
static int prepare_out_dir(const char *dir, int overwrite)
{
    int rc = sg_tmp_sweep(dir, 2, 0, NULL);
    int empty = 1;
    if (rc == SG_OK)
        rc = sg_dir_is_empty(dir, &empty);
    if (rc == SG_OK && !empty && !overwrite)
        return sg_fail(SG_E_INVALID,
                       "%s is not empty: give --overwrite to replace its files, or another -o",
                       dir);
    if (rc == SG_OK && !empty)
        remove_explain_files(dir);
    if (rc == SG_OK)
        rc = sg_mkdir_p(dir);
    return rc;
}

int explain_run(const job_opts *o)
{
    if (o->n_args < 2)
        return sg_fail(SG_E_INVALID, "expected CKPT (or a run folder) and at least one input");
    if (!o->output)
        return sg_fail(SG_E_INVALID, "-o OUTDIR is required");
    ckpt_list list;
    int rc = ckpt_list_expand(&list, o->args[0]);
    if (rc)
        return rc;
    rc = ckpt_list_check(&list);
    train_meta meta = {0};
    if (rc == SG_OK)
        rc = train_ckpt_read_meta(&meta, list.paths[0]);
    int is_series = meta.is_series;
    train_meta_free(&meta);
    if (rc == SG_OK && !is_series && o->summary)
        rc = sg_fail(SG_E_INVALID, "--summary ranks the channels of sensor recordings; %s reads "
                                   "images (its explanation is Grad-CAM, per image)",
                     list.paths[0]);
    if (rc == SG_OK && !is_series && o->gradcam)
        rc = sg_fail(SG_E_INVALID, "--gradcam is for sensor checkpoints; an image checkpoint's "
                                   "explanation is Grad-CAM already");
    if (rc == SG_OK && is_series && o->layer && !o->gradcam)
        rc = sg_fail(SG_E_INVALID, "--layer chooses Grad-CAM's layer: with a sensor checkpoint "
                                   "give --gradcam too");
    explain_out before;
    explain_out_note(&before, o->output);
    int prepared = 0;
    if (rc == SG_OK) {
        rc = prepare_out_dir(o->output, o->overwrite);
        prepared = rc == SG_OK;
    }
    if (rc == SG_OK && is_series)
        rc = explain_occlude_run(o, &list, o->output);
    if (rc == SG_OK && (!is_series || o->gradcam))
        rc = explain_gradcam_run(o, &list, o->output);
    /* (a folder that was missing holds nothing of anyone's: undone even
     * when making it failed half-way) */
    if (rc && (prepared || before.top[0]))
        explain_out_undo(o->output, &before);
    if (rc == SG_OK)
        fprintf(stderr, "sensorgram explain: written to %s/%s\n", o->output,
                list.n > 1 ? " (ensemble: mean of the members' attributions)" : "");
    ckpt_list_free(&list);
    return rc;
}
