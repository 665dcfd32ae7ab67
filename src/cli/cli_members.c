/* cli_members.c - the members of `train --member` (cli_members.h). */
#include "src/cli/cli_members.h"
#include "src/cli/cli_common.h"

#include "src/base/sg_error.h"
#include "src/train/job_train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_ensemble_defaults(job_opts *o)
{
    if (o->single && o->n_members > 0)
        return sg_fail(SG_E_INVALID, "--single and --member exclude each other");
    if (o->single || o->n_members > 0 || o->features || !o->dataset ||
        strcmp(o->dataset, "dsa") != 0)
        return SG_OK;
    if (o->sensors || o->encoder_given || o->enc_args.scope || o->layout_given ||
        o->magnitude_given)
        return SG_OK;
    static const char *const defaults[] = CLI_DSA_MEMBERS;
    for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++)
        o->members[o->n_members++] = defaults[i];
    return SG_OK;
}

/* What every member must share, so it is not a member's to set. */
static int member_option_allowed(const char *name)
{
    static const char *const shared[] = {
        "out", "overwrite", "resume", "dataset", "subjects", "label-regex", "photos",
        "on-error", "cv", "valid-pct", "valid-subjects", "member", "single", "features",
        "keep-folds", "cv-parallel", "dist-url", "rank", "world-size", "dist-backend",
        "dist-timeout", "help", NULL};
    for (int i = 0; shared[i]; i++)
        if (strcmp(name, shared[i]) == 0)
            return 0;
    return 1;
}

/* Splits opts at white space into ms->buf[i] / ms->argv[i] after argv. */
static int member_argv(cli_members *ms, int i, int argc, char **argv, const char *opts,
                       int *argc_out)
{
    size_t len = strlen(opts);
    char *buf = ms->buf[i] = malloc(len + 1);
    char **av = ms->argv[i] = malloc(((size_t)argc + len / 2 + 2) * sizeof *av);
    if (!buf || !av)
        return sg_fail(SG_E_NOMEM, "out of memory");
    memcpy(buf, opts, len + 1);
    memcpy(av, argv, (size_t)argc * sizeof *argv);
    int n = argc;
    char *save = NULL;
    for (char *t = strtok_r(buf, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
        if (t[0] == '-' && t[1] == '-') {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)strcspn(t + 2, "="), t + 2);
            if (!member_option_allowed(name))
                return sg_fail(SG_E_INVALID,
                               "--member '%s': --%s is shared by all members; give it once, "
                               "outside --member",
                               opts, name);
        } else if (t[0] == '-' && (t[1] == 'o' || t[1] == 'h')) {
            return sg_fail(SG_E_INVALID, "--member '%s': -%c is shared by all members", opts,
                           t[1]);
        }
        av[n++] = t;
    }
    av[n] = NULL;
    *argc_out = n;
    return SG_OK;
}

int cli_members_parse(cli_members *ms, const job_opts *base, int argc, char **argv,
                      unsigned groups, const char *usage)
{
    if (base->resume)
        return sg_fail(SG_E_INVALID,
                       "--resume continues one run; an ensemble's members are runs of their own "
                       "(RUN_DIR/member_N): train again with --overwrite, or one model with "
                       "--single");
    if (base->features)
        return sg_fail(SG_E_INVALID, "--member trains networks, not --features heads");
    int rc = SG_OK;
    for (int i = 0; rc == SG_OK && i < base->n_members; i++) {
        job_opts *m = &ms->opts[i];
        ms->n = i + 1;
        int n = 0;
        rc = member_argv(ms, i, argc, argv, base->members[i], &n);
        cli_opts_default(m);
        if (rc == SG_OK)
            rc = cli_parse(m, n, ms->argv[i], groups, usage);
        if (rc == SG_OK && m->n_args != base->n_args)
            rc = sg_fail(SG_E_INVALID, "--member '%s': '%s' is not an option", base->members[i],
                         m->args[m->n_args - 1]);
        /* A member is one model: its own options, then train's defaults. */
        m->n_members = 0;
        m->single = 1;
        if (rc == SG_OK)
            rc = cli_sensor_defaults(m);
        if (rc == SG_OK)
            rc = job_train_check(m);
        if (rc && base->members[i][0])
            rc = sg_fail_context(rc, "--member '%s'", base->members[i]);
    }
    return rc;
}

void cli_members_free(cli_members *ms)
{
    for (int i = 0; i < ms->n; i++) {
        free(ms->buf[i]);
        free(ms->argv[i]);
    }
    ms->n = 0;
}
