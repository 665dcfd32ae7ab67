/* job_aug.c - augmentation options into datasets, config.json and checks
 * (see job_aug.h).
 */
#include "src/train/job_aug.h"

#include "src/base/sg_error.h"
#include "src/train/train_ckpt.h"

int job_aug_install(job_data *d, const job_opts *o)
{
    if (!d->is_series) {
        if (o->aug.given)
            return sg_fail(SG_E_INVALID,
                           "--%s augments sensor series before encoding (--dataset dsa); %s "
                           "holds image files (use --augment for image shifts)",
                           o->aug.given, o->n_args > 0 ? o->args[0] : "DATA");
        return SG_OK;
    }
    series_aug_params p = o->aug.p;
    if (o->augment == 0)
        series_aug_params_off(&p);
    return sample_source_set_augment(&d->src, &p, o->triads);
}

json_t *job_aug_json(const job_data *d)
{
    if (!d->is_series || !d->src.aug_on)
        return json_null();
    const series_aug_params *p = &d->src.aug;
    json_t *j = json_pack("{s:f, s:f, s:i, s:f, s:f, s:f}", "rotate_deg", p->rotate_deg, "scale",
                          p->scale_sigma, "shift", p->shift_max, "crop", p->crop_min, "warp",
                          p->warp_sigma, "jitter", p->jitter_sigma);
    /* Only when on: runs from before the option keep their
     * fingerprint (and --resume). */
    if (j && p->remount_p > 0 &&
        json_object_set_new(j, "remount", json_real(p->remount_p)) != 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int job_aug_config_add(json_t *config, const job_opts *o, const job_data *d)
{
    json_t *options = json_object_get(config, "options");
    if (!options)
        return SG_OK;
    json_t *v = job_aug_json(d);
    if (!v || json_object_set_new(options, "series_augment", v) != 0 ||
        json_object_set_new(options, "mixup", json_real(o->aug.mixup)) != 0 ||
        json_object_set_new(options, "cutmix", json_real(o->aug.cutmix)) != 0 ||
        json_object_set_new(options, "triads", d->is_series && d->src.aug_on
                                                   ? json_integer(d->src.aug_layout.n_triads)
                                                   : json_null()) != 0)
        return sg_fail(SG_E_NOMEM, "cannot build config.json");
    return SG_OK;
}

int job_tta_check(const job_opts *o, const char *ckpt)
{
    if (o->aug.tta <= 1)
        return SG_OK;
    train_meta meta = {0};
    if (train_ckpt_read_meta(&meta, ckpt) != SG_OK) {
        sg_error_clear();
        return SG_OK;
    }
    int series = meta.is_series;
    train_meta_free(&meta);
    if (!series)
        return sg_fail(SG_E_INVALID,
                       "--tta %d shifts sensor series in time; %s was trained on image files, "
                       "and shifting a picture is not shifting its signal",
                       o->aug.tta, ckpt);
    return SG_OK;
}
