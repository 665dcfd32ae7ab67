/* dist_none.c - the sg_dist.h API in a build without libtorch (NO_TORCH=1;
 * the Makefile filters it out otherwise).  Keep in sync with sg_dist.h. */
#include "models/sg_dist.h"

#include "src/base/sg_error.h"

static int no_torch(void)
{
    return sg_fail(SG_E_UNSUPPORTED, "sensorgram was built without libtorch (NO_TORCH=1)");
}

int sg_dist_create(sg_dist **out, const sg_dist_spec *spec)
{
    (void)spec;
    if (out)
        *out = NULL;
    return no_torch();
}

void sg_dist_free(sg_dist *d) { (void)d; }
int sg_dist_rank(const sg_dist *d) { (void)d; return 0; }
int sg_dist_world_size(const sg_dist *d) { (void)d; return 1; }
int sg_dist_local_rank(const sg_dist *d) { (void)d; return 0; }
void sg_dist_note_failure(sg_dist *d, const char *message) { (void)d, (void)message; }
int sg_dist_broadcast_model(sg_dist *d, sg_model *m) { (void)d, (void)m; return no_torch(); }
int sg_dist_broadcast_buffers(sg_dist *d, sg_model *m) { (void)d, (void)m; return no_torch(); }

int sg_dist_grad_sync_begin(sg_dist *d, sg_model *m)
{
    (void)d, (void)m;
    return no_torch();
}

int sg_dist_grad_sync_end(sg_dist *d, sg_model *m, int failed, sg_dist_comm_time *t)
{
    (void)d, (void)m, (void)failed;
    if (t)
        t->span_s = t->exposed_s = 0.0;
    return no_torch();
}

int sg_dist_sync_bn(sg_dist *d, sg_model *m) { (void)d, (void)m; return no_torch(); }

int sg_dist_allreduce_sum(sg_dist *d, double *buf, size_t n)
{
    (void)d, (void)buf, (void)n;
    return no_torch();
}

int sg_dist_allreduce_sum_f32(sg_dist *d, float *buf, size_t n)
{
    (void)d, (void)buf, (void)n;
    return no_torch();
}

int sg_dist_barrier(sg_dist *d) { (void)d; return no_torch(); }
int sg_dist_wait_all(sg_dist *d, const char *tag) { (void)d, (void)tag; return no_torch(); }

int sg_model_accumulate_grad(sg_model *m, const float *x, int n, int c, int h, int w,
                             const int64_t *labels, double label_smoothing, double *loss)
{
    (void)m, (void)x, (void)n, (void)c, (void)h, (void)w, (void)labels, (void)label_smoothing,
        (void)loss;
    return no_torch();
}

int sg_model_zero_grad(sg_model *m) { (void)m; return no_torch(); }

int sg_optim_step_accumulated(sg_optim *o, double divisor)
{
    (void)o, (void)divisor;
    return no_torch();
}
