/* job_eval.c - the engine of `sensorgram eval CKPT DATA`: accuracy, log loss, a
 * per-class precision/recall/F1 table, confusion_matrix.csv,
 * predictions.csv, the N highest-loss samples and figures, written to
 * -o DIR (default: an eval/ folder beside the checkpoint).
 *
 * DATA is prepared the checkpoint's way (ckpt_data.h): its encoder and
 * fit for sensor data, its classes for labels.
 */
#include "src/train/job_eval.h"
#include "src/train/ckpt_data.h"
#include "src/train/ckpt_ensemble.h"
#include "src/train/job_setup.h"
#include "src/train/metrics.h"
#include "src/train/run_dir.h"
#include "src/base/sg_error.h"
#include "src/train/train.h"
#include "src/train/train_ckpt.h"

#include "src/train/run_guard.h"

#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Beside the (first) checkpoint; inside a --keep-folds run folder. */
static int default_out_dir(char *buf, size_t size, const char *ckpt, const ckpt_list *l)
{
    if (l->is_run_dir) {
        int n = snprintf(buf, size, "%s/eval", ckpt);
        return n < 0 || (size_t)n >= size ? sg_fail(SG_E_INVALID, "%s: path too long", ckpt)
                                          : SG_OK;
    }
    ckpt = l->paths[0];
    char *copy = strdup(ckpt);
    if (!copy)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int n = snprintf(buf, size, "%s/eval", dirname(copy));
    free(copy);
    if (n < 0 || (size_t)n >= size)
        return sg_fail(SG_E_INVALID, "%s: path too long", ckpt);
    return SG_OK;
}

/* config.json's "adapt_bn": false for a plain eval; with --adapt-bn (or
 * --tent) true, "adapt_bn_groups" says where each group's statistics came
 * from and "tent_epochs" how many entropy passes followed (0: AdaBN). */
static int record_adapt_bn(json_t *config, const ckpt_predictions *r)
{
    if (json_object_set_new(config, "adapt_bn", json_boolean(r->adapted)) != 0)
        return sg_fail(SG_E_NOMEM, "out of memory");
    if (!r->adapted)
        return SG_OK;
    json_t *groups = json_array();
    for (int g = 0; groups && g < r->adapt.n_groups; g++) {
        const adapt_bn_group *grp = &r->adapt.groups[g];
        json_t *row = json_pack("{s:i, s:I, s:s}", "subject", grp->subject, "n",
                                (json_int_t)grp->n, "statistics",
                                adapt_bn_source_name(grp->source));
        /* --tent: the first checkpoint's mean entropy in its first and last pass */
        if (row && r->adapt.tent_epochs > 0 && grp->source != ADAPT_BN_TRAINED &&
            json_object_set_new(row, "tent_entropy",
                                json_pack("[f, f]", grp->entropy_first, grp->entropy_last)) != 0) {
            json_decref(row);
            row = NULL;
        }
        if (!row || json_array_append_new(groups, row) != 0) {
            json_decref(groups);
            groups = NULL;
        }
    }
    if (!groups || json_object_set_new(config, "adapt_bn_groups", groups) != 0 ||
        json_object_set_new(config, "tent_epochs", json_integer(r->adapt.tent_epochs)) != 0 ||
        json_object_set_new(config, "adapt_bn_min_inputs",
                            json_integer(ADAPT_BN_MIN_SAMPLES)) != 0)
        return sg_fail(SG_E_NOMEM, "out of memory");
    return SG_OK;
}

int job_eval(const job_opts *o)
{
    const char *ckpt = o->args[0];
    char out_dir[4096];
    ckpt_list list;
    int rc = ckpt_list_expand(&list, ckpt);
    if (rc)
        return rc;
    if (o->output)
        snprintf(out_dir, sizeof out_dir, "%s", o->output);
    else
        rc = default_out_dir(out_dir, sizeof out_dir, ckpt, &list);
    ckpt_predictions r = {0};
    if (rc == SG_OK)
        rc = ckpt_ensemble_run(&r, o, &list, o->arch_given ? (int)o->arch : -1, o->args + 1,
                               o->n_args - 1, 1, o->label_regex);
    if (rc) {
        ckpt_list_free(&list);
        return rc;
    }
    if (list.n > 1)
        fprintf(stderr, "sensorgram eval: ensemble of %d checkpoints (mean probabilities)\n",
                list.n);
    if (r.adapted)
        adapt_bn_plan_print(stderr, "sensorgram eval", &r.adapt);
    size_t n = r.n;
    json_t *config = NULL;
    if (rc == SG_OK)
        rc = run_dir_prepare(out_dir);
    if (rc == SG_OK) {
        config = json_pack("{s:s, s:s, s:I}", "command", "eval", "checkpoint", ckpt,
                           "n_samples", (json_int_t)n);
        if (!config)
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    if (rc == SG_OK)
        rc = record_adapt_bn(config, &r);
    if (rc == SG_OK && list.n > 1) {
        json_t *members = json_array();
        for (int i = 0; members && i < list.n; i++)
            json_array_append_new(members, json_string(list.paths[i]));
        if (!members || json_object_set_new(config, "ensemble", members) != 0)
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    sg_transform_spec seen = r.meta.spec;
    seen.normalize = 0;
    if (rc == SG_OK)
        rc = job_write_validation_outputs(out_dir, &r.data, r.idx, r.probs, n, o->top_losses,
                                          &seen, config);
    if (rc == SG_OK)
        rc = run_config_write(out_dir, config);
    if (rc == SG_OK) {
        json_t *res = json_object_get(config, "results");
        printf("%zu samples: accuracy %.4f  log_loss %.4f  macro_f1 %.4f\n\n", n,
               json_real_value(json_object_get(res, "accuracy")),
               json_real_value(json_object_get(res, "log_loss")),
               json_real_value(json_object_get(res, "macro_f1")));
        job_print_class_table(stdout, &r.data, r.idx, r.probs, n);
        printf("\nwritten to %s/ (predictions.csv, confusion_matrix.csv, top_losses.csv, "
               "figures/)\n",
               out_dir);
        job_draw_figures(o, out_dir);
    }
    /* A failed eval leaves none of its files behind as if whole. */
    if (rc && rc != SG_E_INTERRUPTED)
        run_guard_remove_eval_files(out_dir);
    json_decref(config);
    ckpt_predictions_free(&r);
    ckpt_list_free(&list);
    return rc;
}
