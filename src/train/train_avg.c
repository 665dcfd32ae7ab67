/* train_avg.c - when and how the training loop updates the weight
 * average (see train_avg.h); the arithmetic is models/weight_avg.cpp's. */
#include "src/train/train_avg.h"

#include "src/base/sg_error.h"

int train_avg_after_step(const train_options *opt, sg_model *m, train_state *st)
{
    if (!opt->avg || opt->ema_decay <= 0.0)
        return SG_OK;
    int rc = sg_wavg_update(opt->avg, m, opt->ema_decay);
    if (rc == SG_OK)
        st->n_averaged++;
    return rc;
}

int train_avg_after_epoch(const train_options *opt, sg_model *m, train_state *st, int epoch)
{
    if (!opt->avg || opt->swa_epochs <= 0 || epoch < st->total_epochs - opt->swa_epochs)
        return SG_OK;
    /* The first update copies (decay 0); then a running mean. */
    double n = (double)st->n_averaged;
    int rc = sg_wavg_update(opt->avg, m, n / (n + 1.0));
    if (rc == SG_OK)
        st->n_averaged++;
    return rc;
}

int train_avg_ready(const train_options *opt, const train_state *st)
{
    if (!opt->avg)
        return 0;
    return opt->ema_decay > 0.0 || (opt->swa_epochs > 0 && st->n_averaged > 0);
}

const char *train_avg_tag(const train_options *opt, const train_state *st)
{
    if (!train_avg_ready(opt, st))
        return "";
    return opt->ema_decay > 0.0 ? "ema" : "swa";
}
