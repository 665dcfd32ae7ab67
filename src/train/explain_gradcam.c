/* explain_gradcam.c - Grad-CAM for explain (see explain.h); not yet. */
#include "src/train/explain.h"

#include "src/base/sg_error.h"

int explain_gradcam_run(const job_opts *o, const ckpt_list *l, const char *out_dir)
{
    (void)o;
    (void)l;
    (void)out_dir;
    return sg_fail(SG_E_UNSUPPORTED, "Grad-CAM is not implemented yet");
}
