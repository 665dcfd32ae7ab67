/* explain.c - `sensorgram explain`: the output folder's guard and the
 * choice between occlusion (sensor checkpoints) and Grad-CAM (image
 * checkpoints); see explain.h.  The work is in explain_occlude.c and
 * explain_gradcam.c.
 */
#include "src/train/explain.h"

#include "src/base/atomic_file.h"
#include "src/base/out_dir.h"
#include "src/base/sg_error.h"
#include "src/train/train_ckpt.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
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
    if (rc == SG_OK)
        rc = prepare_out_dir(o->output, o->overwrite);
    if (rc == SG_OK && is_series)
        rc = explain_occlude_run(o, &list, o->output);
    if (rc == SG_OK && (!is_series || o->gradcam))
        rc = explain_gradcam_run(o, &list, o->output);
    if (rc == SG_OK)
        fprintf(stderr, "sensorgram explain: written to %s/%s\n", o->output,
                list.n > 1 ? " (ensemble: mean of the members' attributions)" : "");
    ckpt_list_free(&list);
    return rc;
}
