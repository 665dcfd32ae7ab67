/* schedule.c - one-cycle schedules (see schedule.h).  The torch variant
 * mirrors OneCycleLR.get_lr line by line, including the order of float
 * operations, so values agree with PyTorch to the last bit or two. */
#include "src/train/schedule.h"
#include "src/base/sg_error.h"

#include <math.h>

void sg_onecycle_torch_defaults(sg_onecycle *s, double max_lr, long total_steps)
{
    s->kind = SG_SCHED_TORCH;
    s->max_lr = max_lr;
    s->total_steps = total_steps;
    s->pct_start = 0.3;
    s->anneal = SG_ANNEAL_COS;
    s->div_factor = 25.0;
    s->final_div_factor = 1e4;
    s->cycle_momentum = 1;
    s->base_momentum = 0.85;
    s->max_momentum = 0.95;
    s->three_phase = 0;
}

void sg_onecycle_fastai_defaults(sg_onecycle *s, double max_lr, long total_steps)
{
    sg_onecycle_torch_defaults(s, max_lr, total_steps);
    s->kind = SG_SCHED_FASTAI;
    s->pct_start = 0.25;
    s->final_div_factor = 1e5;
}

/* Phase table of OneCycleLR: end step, lr endpoints, momentum endpoints. */
typedef struct phase {
    double end_step;
    double lr0, lr1, m0, m1;
} phase;

static int torch_phases(const sg_onecycle *s, phase *p)
{
    double initial = s->max_lr / s->div_factor;
    double min_lr = initial / s->final_div_factor;
    double total = (double)s->total_steps;
    double lo = s->base_momentum, hi = s->max_momentum;
    if (s->three_phase) {
        p[0] = (phase){s->pct_start * total - 1, initial, s->max_lr, hi, lo};
        p[1] = (phase){2 * s->pct_start * total - 2, s->max_lr, initial, lo, hi};
        p[2] = (phase){total - 1, initial, min_lr, hi, hi};
        return 3;
    }
    p[0] = (phase){s->pct_start * total - 1, initial, s->max_lr, hi, lo};
    p[1] = (phase){total - 1, s->max_lr, min_lr, lo, hi};
    return 2;
}

int sg_onecycle_check(const sg_onecycle *s)
{
    if (s->kind != SG_SCHED_TORCH && s->kind != SG_SCHED_FASTAI)
        return sg_fail(SG_E_INVALID, "schedule: unknown kind %d", (int)s->kind);
    if (!(s->max_lr > 0) || !isfinite(s->max_lr))
        return sg_fail(SG_E_INVALID, "schedule: max lr must be > 0 (got %g)", s->max_lr);
    if (s->total_steps <= 0)
        return sg_fail(SG_E_INVALID, "schedule: total steps must be > 0 (got %ld)",
                       s->total_steps);
    if (!(s->pct_start >= 0 && s->pct_start <= 1))
        return sg_fail(SG_E_INVALID, "schedule: pct_start must be in [0, 1] (got %g)",
                       s->pct_start);
    if (!(s->div_factor > 0) || !(s->final_div_factor > 0))
        return sg_fail(SG_E_INVALID, "schedule: div factors must be > 0");
    if (s->anneal != SG_ANNEAL_COS && s->anneal != SG_ANNEAL_LINEAR)
        return sg_fail(SG_E_INVALID, "schedule: unknown annealing %d", (int)s->anneal);
    if (s->kind == SG_SCHED_TORCH) {
        phase p[3];
        int n = torch_phases(s, p);
        double start = 0;
        for (int i = 0; i < n; i++) {
            if (p[i].end_step == start)
                return sg_fail(SG_E_INVALID,
                               "schedule: phase %d has zero length with %ld steps and "
                               "pct_start %g (PyTorch would divide by zero)",
                               i + 1, s->total_steps, s->pct_start);
            start = p[i].end_step;
        }
    } else if (s->anneal != SG_ANNEAL_COS || s->three_phase) {
        return sg_fail(SG_E_INVALID, "schedule: the fastai variant is two-phase cosine only");
    }
    return SG_OK;
}

static double anneal_cos(double start, double end, double pct)
{
    double cos_out = cos(M_PI * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
}

static double anneal_linear(double start, double end, double pct)
{
    return (end - start) * pct + start;
}

static double sched_cos(double start, double end, double pos)
{
    return start + (1 + cos(M_PI * (1 - pos))) * (end - start) / 2;
}

/* OneCycleLR.get_lr; which = 0 lr, 1 momentum. */
static double torch_value(const sg_onecycle *s, long step, int which)
{
    phase p[3];
    int n = torch_phases(s, p);
    double start_step = 0;
    double x = (double)step;
    for (int i = 0; i < n; i++) {
        double end_step = p[i].end_step;
        if (x <= end_step || i == n - 1) {
            double pct = (x - start_step) / (end_step - start_step);
            double a = which ? p[i].m0 : p[i].lr0, b = which ? p[i].m1 : p[i].lr1;
            return s->anneal == SG_ANNEAL_COS ? anneal_cos(a, b, pct) : anneal_linear(a, b, pct);
        }
        start_step = end_step;
    }
    return NAN;   /* unreachable: the last phase always matches */
}

/* fastai combine_scheds([pct, 1 - pct], [SchedCos(a, b), SchedCos(b, c)]). */
static double fastai_value(const sg_onecycle *s, long step, double a, double b, double c)
{
    double pos = (double)step / (double)s->total_steps;
    double cut = s->pct_start;
    /* idx = min(last i with pos >= pcts[i], 1) with pcts = [0, pct, 1] */
    if (pos >= cut && cut < 1.0)
        return sched_cos(b, c, (pos - cut) / (1.0 - cut));
    return sched_cos(a, b, pos / cut);
}

static long clamp_step(const sg_onecycle *s, long step)
{
    if (step < 0)
        return 0;
    return step > s->total_steps ? s->total_steps : step;
}

double sg_onecycle_lr(const sg_onecycle *s, long step)
{
    step = clamp_step(s, step);
    if (s->kind == SG_SCHED_FASTAI)
        return fastai_value(s, step, s->max_lr / s->div_factor, s->max_lr,
                            s->max_lr / s->final_div_factor);
    return torch_value(s, step, 0);
}

double sg_onecycle_momentum(const sg_onecycle *s, long step)
{
    if (!s->cycle_momentum)
        return s->max_momentum;
    step = clamp_step(s, step);
    if (s->kind == SG_SCHED_FASTAI)
        return fastai_value(s, step, s->max_momentum, s->base_momentum, s->max_momentum);
    return torch_value(s, step, 1);
}

int sg_lr_spread(double *out, int n_groups, double lo, double hi)
{
    if (n_groups < 1 || !(lo > 0) || !(hi >= lo))
        return sg_fail(SG_E_INVALID, "lr spread: need n >= 1 and 0 < lo <= hi (got %d, %g, %g)",
                       n_groups, lo, hi);
    if (n_groups == 1) {
        out[0] = hi;
        return SG_OK;
    }
    /* fastai even_mults: step = (stop / start) ** (1 / (n - 1)) */
    double step = pow(hi / lo, 1.0 / (double)(n_groups - 1));
    for (int i = 0; i < n_groups; i++)
        out[i] = lo * pow(step, (double)i);
    return SG_OK;
}
