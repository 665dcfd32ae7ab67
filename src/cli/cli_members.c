/* cli_members.c - the members of `train --member` (cli_members.h). */
#include "src/cli/cli_members.h"
#include "src/cli/cli_common.h"

#include "src/base/sg_error.h"
#include "src/train/job_train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What every member must share (the registry's CLI_F_SHARED rows), so
 * it is not a member's to set: "--out" or "-o". */
static int member_option_allowed(const char *token)
{
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(token + 2, "="), token + 2);
    const cli_opt *o = token[1] == '-' ? cli_opt_find(name, CLI_TRAIN) : NULL;
    for (int i = 0; token[1] != '-' && i < cli_n_opts; i++)
        if (cli_opts[i].short_name == token[1] && (cli_opts[i].cmds & CLI_BIT(CLI_TRAIN)))
            o = &cli_opts[i];
    return !o || !(o->flags & CLI_F_SHARED);
}

/* Splits opts at white space into ms->buf[i] / ms->argv[i] after argv
 * (the caller names the member in a message). */
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
        if (t[0] == '-' && t[1] == '-' && !member_option_allowed(t))
            return sg_fail(SG_E_INVALID,
                           "--%.*s is shared by all members; give it once, outside --member",
                           (int)strcspn(t + 2, "="), t + 2);
        if (t[0] == '-' && t[1] && t[1] != '-' && !member_option_allowed(t))
            return sg_fail(SG_E_INVALID, "-%c is shared by all members", t[1]);
        av[n++] = t;
    }
    av[n] = NULL;
    *argc_out = n;
    return SG_OK;
}

int cli_members_parse(cli_members *ms, const job_opts *base, int argc, char **argv,
                      const char *usage)
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
        /* A member is one model: as if --single, no default members. */
        cli_given given = {0};
        cli_given_add(&given, "single", CLI_TRAIN);
        if (rc == SG_OK)
            rc = cli_parse(m, &given, n, ms->argv[i], usage);
        if (rc == SG_OK && m->n_args != base->n_args)
            rc = sg_fail(SG_E_INVALID, "--member '%s': '%s' is not an option", base->members[i],
                         m->args[m->n_args - 1]);
        m->n_members = 0;
        m->single = 1;
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
