/* adapt_tent.c - test-time entropy minimisation on BatchNorm scales and
 * shifts (see adapt_tent.h). */

#include "src/train/adapt_tent.h"

#include "src/base/sg_error.h"
#include "src/base/signals.h"
#include "src/train/adapt_bn.h"
#include "src/train/loader.h"

#include <math.h>

/* The shuffling of a group's inputs; the same on every run. */
#define ADAPT_TENT_SEED 0x7e47ULL

/* Every stage frozen but its BatchNorm affine weights (frozen = 1), or
 * everything trainable again (frozen = 0). */
static int freeze_all_but_bn(sg_model *m, int frozen)
{
    int rc = SG_OK;
    for (int s = 0; s < SG_STAGE_COUNT; s++) {
        int r = sg_model_set_frozen(m, (sg_stage)s, frozen, frozen);
        if (rc == SG_OK)
            rc = r;
    }
    return rc;
}

static int one_pass(sg_model *m, sg_optim *opt, sg_loader *l, int epoch, double *mean)
{
    int rc = sg_loader_start_epoch(l, epoch);
    double sum = 0.0;
    size_t batches = 0;
    while (rc == SG_OK) {
        sg_batch *b;
        int got = sg_loader_next(l, &b);
        if (got <= 0) {
            rc = got;
            break;
        }
        double h = NAN;
        rc = sg_check_interrupt();
        if (rc == SG_OK)
            rc = sg_model_train_step_entropy(m, opt, b->x, b->n, b->c, b->h, b->w, &h);
        sum += h;
        batches++;
    }
    *mean = batches ? sum / (double)batches : NAN;
    return rc;
}

int adapt_tent(sg_model *m, sample_source *src, const size_t *idx, size_t n,
               const sg_transform_spec *spec, int batch_size, int workers, int epochs,
               double *entropy_first, double *entropy_last)
{
    *entropy_first = *entropy_last = NAN;
    if (n < 2 || batch_size < 1 || epochs < 1)
        return sg_fail(SG_E_INVALID, "--tent: needs at least 2 inputs and 1 pass (got %zu, %d)",
                       n, epochs);
    sg_optim_spec os = {
        .kind = SG_OPTIM_ADAMW,
        .lr = ADAPT_TENT_LR,
        .momentum = 0.9,
        .beta2 = 0.999,
        .eps = 1e-8,
        .weight_decay = 0.0,
    };
    sg_loader *l = NULL;
    sg_optim *opt = NULL;
    int rc = adapt_loader_create(&l, src, idx, n, spec, (size_t)batch_size, 0, ADAPT_TENT_SEED,
                                 workers);
    if (rc == SG_OK)
        rc = freeze_all_but_bn(m, 1);
    /* eval mode: the group's AdaBN statistics normalise every batch */
    if (rc == SG_OK)
        rc = sg_model_set_train(m, 0);
    if (rc == SG_OK)
        rc = sg_optim_create(&opt, m, &os);
    for (int e = 0; rc == SG_OK && e < epochs; e++) {
        rc = one_pass(m, opt, l, e, entropy_last);
        if (e == 0)
            *entropy_first = *entropy_last;
    }
    sg_optim_free(opt);
    /* unfrozen, still in eval mode (set above) */
    int rc2 = freeze_all_but_bn(m, 0);
    if (rc == SG_OK)
        rc = rc2;
    sg_loader_free(l);
    return rc ? sg_fail_context(rc, "--tent") : SG_OK;
}
