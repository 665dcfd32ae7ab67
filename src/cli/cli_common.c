/* cli_common.c - the model commands' parse (see cli_common.h): the
 * registry's parser, then what ties options together, then the DSA
 * recipe and the encoder stack. */
#include "src/cli/cli_common.h"
#include "src/cli/cli_enc_opts.h"

#include "figures/fig.h"
#include "src/base/sg_error.h"

#include <string.h>

int cli_report(const char *cmd, int rc, int status)
{
    if (rc == SG_OK)
        return 0;
    fprintf(stderr, "sensorgram %s: %s\n", cmd, sg_last_error());
    /* 128 + SIGINT, as a shell reports a command stopped by Ctrl-C. */
    return rc == SG_E_INTERRUPTED ? 130 : status;
}

/* The flags the engine reads about what was typed: set here only. */
static void set_given_flags(job_opts *o, const cli_given *g)
{
    o->arch_given = cli_given_has(g, "arch");         /* eval/predict: check the checkpoint's */
    o->layout_given = cli_given_has(g, "layout");     /* else chosen from the channels */
    o->valid_pct_given = cli_given_has(g, "valid-pct"); /* a random split of samples */
    o->csv_given = (cli_given_has(g, "header") || cli_given_has(g, "no-header") ? JOB_CSV_HEADER
                                                                                : 0u) |
                   (cli_given_has(g, "delimiter") ? JOB_CSV_DELIMITER : 0u) |
                   (cli_given_has(g, "label-from") || cli_given_has(g, "label-column") ||
                            cli_given_has(g, "label-regex") || cli_given_has(g, "label-first")
                        ? JOB_CSV_LABEL
                        : 0u);
    /* a label column or regex says where CSV labels come from, unless
     * --label-from does (as in encode); the regex is the images' one */
    o->csv.label_regex = o->label_regex;
    if (o->csv.label_column && !cli_given_has(g, "label-from"))
        o->csv.label_from = SENSOR_CSV_LABEL_COLUMN;
    if (o->label_regex && !cli_given_has(g, "label-from"))
        o->csv.label_from = SENSOR_CSV_LABEL_REGEX;
    o->aug.given = NULL;                               /* an error names it for photos */
    for (int i = 0; i < cli_n_opts && !o->aug.given; i++)
        if (cli_opts[i].name && strncmp(cli_opts[i].name, "aug-", 4) == 0 &&
            cli_given_has(g, cli_opts[i].name))
            o->aug.given = cli_opts[i].name;
}

int cli_parse(job_opts *o, cli_given *given, int argc, char **argv, const char *usage)
{
    cli_given none = {0};
    given = given ? given : &none;
    cli_cmd cmd = cli_cmd_find(argv[0]);
    if (cmd == CLI_N_CMDS)
        return sg_fail(SG_E_INVALID, "'%s' is not a command", argv[0]);
    int first = 1, rc = cli_req_init(cmd, o);
    if (rc == SG_OK)
        rc = cli_args_parse(cmd, o, given, argc, argv, usage, &first);
    if (rc)
        return rc;
    o->cmd = argv[0];
    o->draw_figures = fig_run_dir_draw;
    o->n_args = argc - first;
    o->args = argv + first;
    o->argc = argc;
    o->argv = argv;
    set_given_flags(o, given);
    if (o->aug.mixup > 0 && o->aug.cutmix > 0)
        return sg_fail(SG_E_INVALID, "--mixup and --cutmix do not combine: choose one");
    if (cli_given_has(given, "magnitude") && !o->dataset)
        return sg_fail(SG_E_INVALID, "--magnitude needs --dataset dsa (norms of DSA x, y, z "
                                     "triads)");
    if (o->magnitude != DSA_MAGNITUDE_OFF) {
        dsa_select sel;
        dsa_select_all(&sel);
        rc = dsa_select_parse(&sel, o->units, o->sensors, o->axes);
        if (rc == SG_OK)
            rc = dsa_magnitude_check(&sel, o->magnitude);
        if (rc)
            return rc;
    }
    if (o->start_lr >= o->end_lr)
        return sg_fail(SG_E_INVALID, "--start-lr %g must be below --end-lr %g", o->start_lr,
                       o->end_lr);
    rc = cli_preset_apply(cmd, o, given);
    /* eval and predict take the checkpoint's encoders: theirs is train's default */
    const char *encoder = cli_opt_default("encoder", cmd);
    if (rc == SG_OK)
        rc = cli_enc_build_stack(&o->stack, &o->enc_args,
                                 encoder ? encoder : cli_opt_default("encoder", CLI_TRAIN));
    o->enc = o->stack.p[0];
    return rc;
}
