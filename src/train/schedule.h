/* schedule.h - one-cycle learning-rate and momentum schedules.
 *
 * Two variants:
 *   SG_SCHED_TORCH   torch.optim.lr_scheduler.OneCycleLR of PyTorch 1.13,
 *                    reproduced operation by operation (phase end steps
 *                    float(pct_start * total) - 1 and, three-phase,
 *                    float(2 * pct_start * total) - 2; cos annealing
 *                    end + (start - end) / 2 * (cos(pi * pct) + 1)).
 *                    Step s is the value after s scheduler.step() calls,
 *                    i.e. the lr used for the (s+1)-th optimizer step.
 *   SG_SCHED_FASTAI  fastai's fit_one_cycle: combined_cos(pct_start,
 *                    lr/div, lr, lr/div_final) at position k / total, and
 *                    momentum combined_cos(pct_start, 0.95, 0.85, 0.95);
 *                    each half is SchedCos: start + (1 + cos(pi * (1 -
 *                    p))) * (end - start) / 2.  (fastai evaluates the
 *                    phase position in float32; we use double, which
 *                    differs by ~1e-7 relative.)
 * Momentum is SGD's momentum or Adam's beta1: the same numbers.
 */
#ifndef SG_SCHEDULE_H
#define SG_SCHEDULE_H

typedef enum sg_sched_kind {
    SG_SCHED_TORCH = 0,
    SG_SCHED_FASTAI = 1,
} sg_sched_kind;

typedef enum sg_anneal {
    SG_ANNEAL_COS = 0,
    SG_ANNEAL_LINEAR = 1,   /* torch variant only */
} sg_anneal;

typedef struct sg_onecycle {
    sg_sched_kind kind;
    double max_lr;
    long total_steps;
    double pct_start;          /* torch 0.3, fastai 0.25 */
    sg_anneal anneal;
    double div_factor;         /* initial lr = max_lr / div_factor (25) */
    double final_div_factor;   /* torch: min lr = initial / this (1e4);
                                  fastai: final lr = max_lr / this (1e5) */
    int cycle_momentum;
    double base_momentum;      /* 0.85 */
    double max_momentum;       /* 0.95 */
    int three_phase;           /* torch variant only */
} sg_onecycle;

/* Fills PyTorch's OneCycleLR defaults for max_lr and total_steps. */
void sg_onecycle_torch_defaults(sg_onecycle *s, double max_lr, long total_steps);

/* Fills fastai fit_one_cycle defaults (pct 0.25, div 25, div_final 1e5,
 * moms 0.95 -> 0.85 -> 0.95). */
void sg_onecycle_fastai_defaults(sg_onecycle *s, double max_lr, long total_steps);

/* Validates s (SG_E_INVALID naming the bad field), including phases of
 * zero length that would make PyTorch divide by zero. */
int sg_onecycle_check(const sg_onecycle *s);

/* Learning rate at step (0 .. total_steps; PyTorch raises past that, we
 * clamp) for a checked schedule. */
double sg_onecycle_lr(const sg_onecycle *s, long step);

/* Momentum (or Adam beta1) at step; max_momentum when cycle_momentum is
 * off (PyTorch then leaves the optimizer's value alone). */
double sg_onecycle_momentum(const sg_onecycle *s, long step);

/* Discriminative learning rates like fastai's slice(lo, hi) over
 * n_groups parameter groups (e.g. 6: stem, layer1..4, head): geometric
 * from lo to hi inclusive (fastai even_mults).  out has n_groups slots;
 * n_groups == 1 gives hi. */
int sg_lr_spread(double *out, int n_groups, double lo, double hi);

#endif
