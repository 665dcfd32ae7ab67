/* job_train_main.c - the whole of `sensorgram train` after its options
 * were parsed (job_train_main.h). */
#include "src/train/job_train_main.h"

#include "src/base/sg_error.h"
#include "src/train/job_dist.h"
#include "src/train/job_ensemble.h"
#include "src/train/job_train.h"
#include "src/train/run_dir.h"
#include "src/train/run_files.h"
#include "src/train/run_guard.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int job_train_main(job_opts *o, const job_opts *members, int n_members, int *usage)
{
    *usage = 0;
    job_ensemble *ens = NULL;
    int rc = n_members > 0 ? job_ensemble_create(&ens, o, members, n_members) : SG_OK;
    if (rc) {
        *usage = rc == SG_E_INVALID;
        return rc;
    }
    sg_dist *dist = NULL;
    rc = job_dist_join(&dist, o);
    if (rc == SG_E_INVALID) {
        job_ensemble_free(ens);
        *usage = 1;
        return rc;
    }
    /* --sync-bn needs ranks that train on one batch together. */
    if (rc == SG_OK && o->sync_bn && (!dist || (o->cv_parallel && o->cv != JOB_CV_NONE)) &&
        sg_dist_rank(dist) == 0)
        fprintf(stderr, "sensorgram train: --sync-bn has no effect %s\n",
                !dist ? "in one process (BatchNorm sees the whole batch already; with "
                        "--accumulate, each micro-batch alone)"
                      : "with --cv-parallel (each rank trains whole folds alone)");
    /* torchrun --max_restarts started us again after a failure: carry on
     * from the last checkpoint of this run folder when there is one. */
    char last[4096];
    if (rc == SG_OK && !o->resume && o->cv == JOB_CV_NONE && job_dist_restart_count() > 0 &&
        run_dir_path(last, sizeof last, o->out_dir, SG_RUN_CKPT_LAST) == SG_OK &&
        access(last, R_OK) == 0) {
        o->resume = 1;
        if (sg_dist_rank(dist) == 0)
            fprintf(stderr, "sensorgram train: torchrun restart %d: resuming from %s\n",
                    job_dist_restart_count(), last);
    }
    /* One GPU per local rank, as torchrun scripts do with LOCAL_RANK. */
    char device[32];
    if (rc == SG_OK && dist &&
        (strcmp(o->device, "auto") == 0 || strcmp(o->device, "cuda") == 0) &&
        sg_cuda_available()) {
        snprintf(device, sizeof device, "cuda:%d", sg_dist_local_rank(dist));
        o->device = device;
    }
    /* Never train over an earlier run without being told to: checked by
     * the writing rank, after a torchrun restart has turned on --resume. */
    if (rc == SG_OK && (!dist || sg_dist_rank(dist) == 0))
        rc = run_guard_prepare(o->out_dir, o->resume, o->overwrite);
    if (rc == SG_E_INVALID) {
        sg_dist_free(dist);
        job_ensemble_free(ens);
        *usage = 1;
        return rc;
    }
    /* A failed ensemble leaves no empty RUN_DIR it made (its members
     * clean up their own folders). */
    int existed = access(o->out_dir, F_OK) == 0;
    if (rc == SG_OK)
        rc = ens ? job_ensemble_train(ens, dist) : job_train(o, dist, NULL);
    if (rc && ens && !existed && !o->resume)
        rmdir(o->out_dir); /* only when empty */
    job_ensemble_free(ens);
    if (rc && dist)
        sg_dist_note_failure(dist, sg_last_error());
    /* One line that names this rank once, first: no message below names
     * it (sg_dist.h), whatever context it gathered on the way up. */
    if (rc && dist)
        sg_fail_context(rc, "rank %d", sg_dist_rank(dist));
    /* o->device may point at this frame's buffer: not past the return. */
    if (o->device == device)
        o->device = "cuda";
    sg_dist_free(dist);
    return rc;
}
