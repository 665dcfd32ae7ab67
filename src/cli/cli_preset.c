/* cli_preset.c - the DSA recipe as data: what `train` and `lr-find` use
 * for --dataset dsa where the user left an option open (cli_registry.h).
 *
 * Each value is set as if typed, unless the option itself or one of the
 * options in `unless` was given: parsing records what was given, so the
 * order of options, defaults and recipe no longer matters.  The README's
 * subject-wise ablation (docs/accuracy.md) is the measurement behind each
 * value; photos keep the registry's defaults (ResNet34, 5 epochs, gray).
 */
#include "src/cli/cli_registry.h"

#include "src/base/sg_error.h"

#include <string.h>

typedef struct preset_value {
    const char *name, *value;
    const char *unless[8]; /* options that leave this one to the user */
} preset_value;

/* What leaves the representation of the default ensemble open. */
#define ENSEMBLE_UNLESS {"single", "features", "sensors", "encoder", "scope", "layout", "magnitude"}

static const struct {
    unsigned cmds;
    const char *when, *is; /* applies where option `when` holds `is` */
    preset_value v[8];
} dsa_recipe = {
    CLI_BIT(CLI_TRAIN) | CLI_BIT(CLI_LR_FIND),
    "dataset",
    "dsa",
    {
        /* accelerometers and gyroscopes: 30 axes */
        {"sensors", "acc,gyro", {NULL}},
        {"arch", "resnet18", {NULL}},
        {"epochs", "3", {NULL}},
        /* the rows scaled over the dataset (the gravity direction postures
         * need) and the same rows min-max scaled per segment and axis
         * (small motions such as an elevator starting, lost under the
         * range running sets) */
        {"encoder", "gray+gray:scope=axis", {"scope"}},
        /* train: an ensemble of four members (src/train/job_ensemble.h):
         * the single default above; the same stack over all 45 axes with
         * x, y, z as colours (the magnetometers tell the elevator and
         * treadmill classes apart, which acc+gyro confuse; rgb trains 2.3x
         * faster than 45 rows and scored as well); acc+gyro gray (other
         * errors again: it does not take some people's sitting for
         * lying); acc+gyro spectrograms (the frequency content, blind to
         * where in the 5 s a stride falls: the best calibrated member). */
        {"member", "", ENSEMBLE_UNLESS},
        {"member", "--sensors acc,gyro,mag --layout rgb", ENSEMBLE_UNLESS},
        {"member", "--encoder gray", ENSEMBLE_UNLESS},
        {"member", "--encoder spectrogram", ENSEMBLE_UNLESS},
    },
};

enum { N_VALUES = sizeof dsa_recipe.v / sizeof dsa_recipe.v[0] };

int cli_preset_apply(cli_cmd cmd, void *req, const cli_given *g)
{
    const cli_opt *when = cli_opt_find(dsa_recipe.when, cmd);
    if (!(dsa_recipe.cmds & CLI_BIT(cmd)) || !when)
        return SG_OK;
    const char *is = *(const char **)((char *)req + when->at[cli_req_of(cmd)] - 1);
    if (!is || strcmp(is, dsa_recipe.is) != 0)
        return SG_OK;
    for (int i = 0; i < N_VALUES; i++) {
        const preset_value *v = &dsa_recipe.v[i];
        const cli_opt *o = cli_opt_find(v->name, cmd);
        int open = o && !cli_given_has(g, v->name);
        for (int u = 0; open && v->unless[u]; u++)
            open = !cli_given_has(g, v->unless[u]);
        if (!open)
            continue;
        int rc = cli_opt_set(o, cmd, req, v->value);
        if (rc)
            return rc;
    }
    return SG_OK;
}

void cli_preset_text(char *buf, size_t size, const char *name, cli_cmd cmd)
{
    size_t len = 0;
    int n = 0;
    buf[0] = '\0';
    for (int i = 0; i < N_VALUES; i++)
        n += strcmp(dsa_recipe.v[i].name, name) == 0;
    if (!(dsa_recipe.cmds & CLI_BIT(cmd)) || !cli_opt_find(name, cmd))
        return;
    for (int i = 0; i < N_VALUES && len < size; i++) {
        if (strcmp(dsa_recipe.v[i].name, name) != 0)
            continue;
        if (len)
            len += (size_t)snprintf(buf + len, size - len, ", ");
        else
            len += (size_t)snprintf(buf, size, "--%s %s: ", dsa_recipe.when, dsa_recipe.is);
        /* several values (the members) are quoted as typed */
        if (len < size)
            len += (size_t)snprintf(buf + len, size - len, n > 1 ? "'%s'" : "%s",
                                    dsa_recipe.v[i].value);
    }
}
