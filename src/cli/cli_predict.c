/* cli_predict.c - `sensorgram predict`: parses and predicts with a bare
 * model (--weights: src/train/predict_bare.h) or a training checkpoint,
 * a comma list of them or a run folder (src/train/predict_ckpt.h). */
#include "src/base/sg_error.h"
#include "src/cli/cli_common.h"
#include "src/cli/commands.h"
#include "src/train/job_aug.h"
#include "src/train/predict_bare.h"
#include "src/train/predict_ckpt.h"

#define PREDICT_USAGE                                                                    \
    "sensorgram predict CKPT INPUTS... -o OUT.csv [--kaggle [--clip P]]\n"                 \
    "       (CKPT: a checkpoint, a comma list of them or a --keep-folds run folder)\n"      \
    "       sensorgram predict --arch A --weights FILE.safetensors [--no-normalize] -o OUT.csv " \
    "IMAGES..."

int cmd_predict(int argc, char **argv)
{
    job_opts o;
    int rc = cli_parse(&o, NULL, argc, argv, PREDICT_USAGE);
    if (rc == 1)
        return 0;
    if (rc == 0 && !o.output)
        rc = sg_fail(SG_E_INVALID, "-o OUT.csv is required");
    if (rc == 0 && o.n_args < 1)
        rc = sg_fail(SG_E_INVALID, "no input images (usage: " PREDICT_USAGE ")");
    if (rc == 0 && o.weights && o.aug.tta > 1)
        rc = sg_fail(SG_E_INVALID, "--tta shifts sensor series in time; --weights predicts on "
                                   "image files (use a training checkpoint of sensor data)");
    if (rc == 0 && o.weights && o.adapt_bn)
        rc = sg_fail(SG_E_INVALID, "--adapt-bn recomputes a training checkpoint's BatchNorm "
                                   "statistics; --weights predicts with bare weights (give the "
                                   "checkpoint instead)");
    if (rc == 0 && !o.weights)
        rc = job_tta_check(&o, o.args[0]);
    if (rc != 0)
        return cli_report("predict", rc, 2);
    rc = o.weights ? predict_bare(&o) : predict_ckpt_run(&o);
    return cli_report("predict", rc, rc == SG_E_INVALID ? 2 : 1);
}
