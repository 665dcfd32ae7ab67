/* run_guard.c - refusing to train over an earlier run (see run_guard.h). */
#include "src/train/run_guard.h"

#include "src/train/run_files.h"
#include "src/base/out_dir.h"
#include "src/base/sg_error.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every file name a run writes at its top level (run_files.h). */
static const char *const run_files[] = {
    SG_RUN_METRICS, SG_RUN_PREDICTIONS, SG_RUN_CONFUSION, SG_RUN_TOP_LOSSES, SG_RUN_LR_FIND,
    SG_RUN_LR_FIND_SUGGESTIONS, SG_RUN_CONFIG, SG_RUN_CV_FOLDS, SG_RUN_REPORT, NULL,
};

static const char *const figure_names[] = {
    "confusion_matrix", "confusion_matrix_normalized", "loss_curves", "accuracy",
    "lr_schedule", "per_class_f1", "top_losses", "lr_find", NULL,
};

static int remove_file(const char *dir, const char *name)
{
    char path[4352];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return sg_fail(SG_E_INVALID, "%s: path too long", dir);
    if (unlink(path) != 0 && errno != ENOENT)
        return sg_fail(SG_E_IO, "%s: cannot remove: %s", path, strerror(errno));
    return SG_OK;
}

/* top_losses/NN.png: two or more digits, ".png". */
static int is_top_loss_image(const char *name)
{
    size_t n = strspn(name, "0123456789");
    return n >= 2 && strcmp(name + n, ".png") == 0;
}

static int remove_matching(const char *dir, int (*match)(const char *))
{
    DIR *d = opendir(dir);
    if (!d)
        return SG_OK;
    int rc = SG_OK;
    struct dirent *e;
    while (rc == SG_OK && (e = readdir(d)) != NULL)
        if (match(e->d_name))
            rc = remove_file(dir, e->d_name);
    closedir(d);
    rmdir(dir); /* only when now empty; anything else of the user's stays */
    return rc;
}

/* PREFIXN, N decimal */
static int is_numbered(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || !name[n])
        return 0;
    return strspn(name + n, "0123456789") == strlen(name + n);
}

/* fold_N (cross-validation) or member_N (an ensemble: a run each) */
static int is_fold_dir(const char *name)
{
    return is_numbered(name, "fold_") || is_numbered(name, SG_RUN_MEMBER_PREFIX);
}

int run_guard_remove_run_files(const char *dir, int keep_ckpt)
{
    int rc = SG_OK;
    char sub[4352];
    for (int i = 0; rc == SG_OK && run_files[i]; i++)
        rc = remove_file(dir, run_files[i]);
    if (rc == SG_OK)
        rc = remove_file(dir, SG_RUN_CKPT_BEST);

    if (rc == SG_OK && !keep_ckpt)
        rc = remove_file(dir, SG_RUN_CKPT_LAST);
    snprintf(sub, sizeof sub, "%s/%s", dir, SG_RUN_FIGURES);
    static const char *const exts[] = {"png", "svg", "pdf"};
    for (int i = 0; rc == SG_OK && figure_names[i]; i++)
        for (int x = 0; rc == SG_OK && x < 3; x++) {
            char name[96];
            snprintf(name, sizeof name, "%s.%s", figure_names[i], exts[x]);
            rc = remove_file(sub, name);
        }
    if (rc == SG_OK)
        rmdir(sub);
    snprintf(sub, sizeof sub, "%s/top_losses", dir);
    if (rc == SG_OK)
        rc = remove_matching(sub, is_top_loss_image);
    /* Cross-validation folds and ensemble members hold a run each
     * (without the checkpoint exception: a new run may have another
     * number of folds or members). */
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && rc == SG_OK && (e = readdir(d)) != NULL) {
        if (!is_fold_dir(e->d_name))
            continue;
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        rc = remove_file(sub, SG_RUN_FOLD_MODEL); /* --keep-folds */
        if (rc == SG_OK)
            rc = run_guard_remove_run_files(sub, 0);
        if (rc == SG_OK)
            rmdir(sub);
    }
    if (d)
        closedir(d);
    return rc;
}

void run_guard_discard_failed(const char *dir)
{
    char path[4352], msg[2048];
    snprintf(path, sizeof path, "%s/%s", dir, SG_RUN_CKPT_LAST);
    struct stat st;
    if (stat(path, &st) == 0)
        return; /* a whole checkpoint: resumable, the user's to keep */
    snprintf(msg, sizeof msg, "%s", sg_last_error());
    run_guard_remove_run_files(dir, 0);
    rmdir(dir);
    sg_fail(SG_E_IO, "%s", msg); /* the code is the caller's; keep its message */
}

void run_guard_remove_eval_files(const char *dir)
{
    char sub[4352];
    remove_file(dir, SG_RUN_PREDICTIONS);
    remove_file(dir, SG_RUN_CONFUSION);
    remove_file(dir, SG_RUN_TOP_LOSSES);
    snprintf(sub, sizeof sub, "%s/top_losses", dir);
    remove_matching(sub, is_top_loss_image);
}

int run_guard_prepare(const char *dir, int resume, int overwrite)
{
    if (resume && overwrite)
        return sg_fail(SG_E_INVALID, "--resume and --overwrite exclude each other");
    /* A killed run's temporaries: in RUN_DIR, figures/, top_losses/,
     * fold_N/ and member_N/ with their own figures/ and fold_N/. */
    int rc = sg_tmp_sweep(dir, 3, 0, NULL);
    if (rc || resume)
        return rc;
    int empty = 1;
    rc = sg_dir_is_empty(dir, &empty);
    if (rc || empty)
        return rc;
    if (!overwrite)
        return sg_fail(SG_E_INVALID,
                       "%s already holds files (an earlier run?): --resume continues it, "
                       "--overwrite replaces it, or choose another --out",
                       dir);
    return run_guard_remove_run_files(dir, 1);
}
