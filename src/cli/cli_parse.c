/* cli_parse.c - the one option parser: argv into a command's request,
 * through the rows of the registry (cli_registry.h).
 *
 * getopt_long sees every option name of every command, so an option of
 * another command is "does not apply" rather than unknown; where rows
 * share a name, the one of this command comes first (getopt_long takes
 * the first of equal names).
 */
#include "src/cli/cli_registry.h"
#include "src/cli/cli_number.h"

#include "src/base/sg_error.h"
#include "src/encode/encode_run.h"
#include "src/train/job.h"

#include <getopt.h>
#include <string.h>
#include <strings.h>

static const char *const cmd_names[CLI_N_CMDS] = {
    "encode", "train", "eval", "predict", "lr-find", "features", "figures", "weights",
    "explain", "pretrain"};

static const size_t req_sizes[CLI_REQ_N] = {sizeof(job_opts), sizeof(encode_request),
                                            sizeof(cli_figures_req), sizeof(cli_weights_req)};

const char *cli_cmd_name(cli_cmd cmd)
{
    return cmd < CLI_N_CMDS ? cmd_names[cmd] : "?";
}

cli_cmd cli_cmd_find(const char *name)
{
    int c = 0;
    while (c < CLI_N_CMDS && strcmp(name, cmd_names[c]) != 0)
        c++;
    return (cli_cmd)c;
}

cli_req cli_req_of(cli_cmd cmd)
{
    return cmd == CLI_ENCODE ? CLI_REQ_ENCODE : cmd == CLI_FIGURES ? CLI_REQ_FIGURES
           : cmd == CLI_WEIGHTS ? CLI_REQ_WEIGHTS : CLI_REQ_JOB;
}

static int applies(const cli_opt *o, cli_cmd cmd)
{
    return o->name && (o->cmds & CLI_BIT(cmd));
}

/* The row spelled name for cmd (an alias stays one); any command's when
 * cmd is CLI_N_CMDS. */
static const cli_opt *row_named(const char *name, cli_cmd cmd)
{
    for (int i = 0; i < cli_n_opts; i++)
        if (cli_opts[i].name && strcmp(cli_opts[i].name, name) == 0 &&
            (cmd == CLI_N_CMDS || applies(&cli_opts[i], cmd)))
            return &cli_opts[i];
    return NULL;
}

const cli_opt *cli_opt_find(const char *name, cli_cmd cmd)
{
    const cli_opt *o = row_named(name, cmd);
    return o && o->alias_of ? row_named(o->alias_of, cmd) : o;
}

const char *cli_opt_default(const char *name, cli_cmd cmd)
{
    const cli_opt *o = cli_opt_find(name, cmd);
    return o ? o->def : NULL;
}

int cli_given_has(const cli_given *g, const char *name)
{
    for (int i = 0; i < cli_n_opts; i++)
        if ((g->bit[i / 64] >> (i % 64) & 1) && strcmp(cli_opts[i].name, name) == 0)
            return 1;
    return 0;
}

void cli_given_add(cli_given *g, const char *name, cli_cmd cmd)
{
    const cli_opt *o = cli_opt_find(name, cmd);
    if (o)
        g->bit[(o - cli_opts) / 64] |= 1ull << ((o - cli_opts) % 64);
}

int cli_opt_set(const cli_opt *o, cli_cmd cmd, void *req, const char *v)
{
    size_t at = o->at[cli_req_of(cmd)];
    void *f = at ? (char *)req + at - 1 : NULL;
    switch (o->type) {
    case CLI_FLAG: *(int *)f = 1; return SG_OK;
    case CLI_SET: *(int *)f = (int)o->lo; return SG_OK;
    case CLI_INT: return cli_parse_int(f, o->name, v, (long)o->lo, (long)o->hi);
    case CLI_DOUBLE:
        return cli_parse_double(f, o->name, v, o->lo, o->hi, o->flags & CLI_F_OPEN_LO);
    case CLI_STRING:
    case CLI_LIST: *(const char **)f = v; return SG_OK;
    case CLI_CUSTOM: return o->parse(req, cmd, f, v);
    case CLI_HELP: return SG_OK;
    case CLI_CHOICE: break;
    }
    char list[256] = "";
    for (int k = 0; o->choices[k]; k++) {
        if (strcasecmp(v, o->choices[k]) == 0) {
            if (o->flags & CLI_F_NAME)
                *(const char **)f = o->choices[k];
            else
                *(int *)f = k;
            return SG_OK;
        }
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s",
                 k == 0 ? "" : o->choices[k + 1] ? ", " : " or ", o->choices[k]);
    }
    return sg_fail(SG_E_INVALID, "--%s: expected %s, got '%s'", o->name, list, v);
}

int cli_req_init(cli_cmd cmd, void *req)
{
    memset(req, 0, req_sizes[cli_req_of(cmd)]);
    /* Every field starts at a default, also one no row of cmd sets (eval
     * batches by train's --bs): other commands' rows first, the earliest
     * of a field winning, then cmd's own. */
    for (int k = 0; k < 2 * cli_n_opts; k++) {
        const cli_opt *o = &cli_opts[k < cli_n_opts ? cli_n_opts - 1 - k : k - cli_n_opts];
        size_t at = o->at[cli_req_of(cmd)];
        if (!o->name || o->alias_of || applies(o, cmd) != (k >= cli_n_opts) || !at)
            continue;
        int rc = o->def ? cli_opt_set(o, cmd, req, o->def) : SG_OK;
        if (rc)
            return rc;
        /* zero is what memset left; -1 is "not given" (from the environment, auto) */
        if (!o->def && o->unset && at)
            *(int *)((char *)req + at - 1) = o->unset;
    }
    return SG_OK;
}

/* Whether row o (an alias: the row it spells) takes a value. */
static int has_arg(const cli_opt *o, cli_cmd cmd)
{
    if (o->alias_of)
        o = row_named(o->alias_of, applies(o, cmd) ? cmd : CLI_N_CMDS);
    if (o->flags & CLI_F_OPT_ARG)
        return optional_argument;
    return o->type == CLI_FLAG || o->type == CLI_SET || o->type == CLI_HELP ? no_argument
                                                                           : required_argument;
}

int cli_args_parse(cli_cmd cmd, void *req, cli_given *given, int argc, char **argv,
                   const char *usage, int *first)
{
    /* said once per process, though train --member parses argv again */
    static uint64_t noted[CLI_ROWS_MAX / 64];
    struct option longopts[CLI_ROWS_MAX + 1];
    char shorts[32] = ":";
    int n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < cli_n_opts; i++) {
            const cli_opt *o = &cli_opts[i];
            int k = 0;
            while (k < n && (!o->name || strcmp(longopts[k].name, o->name) != 0))
                k++;
            if (!o->name || k < n || applies(o, cmd) != (pass == 0))
                continue;
            longopts[n++] = (struct option){o->name, has_arg(o, cmd), NULL, 256 + i};
            if (o->short_name && pass == 0) {
                size_t len = strlen(shorts);
                shorts[len] = o->short_name;
                shorts[len + 1] = has_arg(o, cmd) ? ':' : '\0';
            }
        }
    longopts[n] = (struct option){NULL, 0, NULL, 0};
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
        if (c == ':')
            return sg_fail(SG_E_INVALID, "option '%s' needs a value", argv[optind - 1]);
        if (c == '?' && optopt)
            return sg_fail(SG_E_INVALID, "unknown option '-%c'", optopt);
        if (c == '?')
            return sg_fail(SG_E_INVALID, "unknown option '%s'", argv[optind - 1]);
        const cli_opt *o = c >= 256 ? &cli_opts[c - 256] : NULL;
        for (int i = 0; !o && i < cli_n_opts; i++)
            if (cli_opts[i].short_name == c && applies(&cli_opts[i], cmd))
                o = &cli_opts[i];
        if (!applies(o, cmd))
            return sg_fail(SG_E_INVALID, "option --%s does not apply to %s", o->name,
                           cli_cmd_name(cmd));
        int i = (int)(o - cli_opts);
        if (o->note && !(noted[i / 64] >> (i % 64) & 1))
            fprintf(stderr, "sensorgram %s: %s\n", cli_cmd_name(cmd), o->note);
        noted[i / 64] |= 1ull << (i % 64);
        if (o->alias_of)
            o = row_named(o->alias_of, cmd);
        if (o->type == CLI_HELP) {
            cli_help_print(stdout, cmd, usage);
            return 1;
        }
        given->bit[(o - cli_opts) / 64] |= 1ull << ((o - cli_opts) % 64);
        int rc = cli_opt_set(o, cmd, req, optarg);
        if (rc)
            return rc;
    }
    *first = optind;
    return SG_OK;
}
