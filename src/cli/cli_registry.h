/* cli_registry.h - every option of every command, as rows of one table
 * (cli_rows.c), and the one parser, --help and docs/options.md that read it.
 *
 * A row says which commands take the option (a bitmask of cli_cmd), how
 * its value is read (type, range or choices, or a handler), where it goes
 * (an offset into the command's request: job_opts for the model commands,
 * encode_request for encode), its default and its help.  The request is
 * filled with the rows' defaults before parsing, so the default --help
 * prints is the one the code uses.  Several rows may share a name when a
 * default or a range differs by command (-j: encoder threads in encode,
 * loader workers in train); a name means one thing in every command.
 * An alias row only spells another row (--output for --out); a note on
 * it is said once on stderr (a deprecated spelling).
 */
#ifndef SG_CLI_REGISTRY_H
#define SG_CLI_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "figures/fig.h"

typedef enum cli_cmd {
    CLI_ENCODE, CLI_TRAIN, CLI_EVAL, CLI_PREDICT, CLI_LR_FIND, CLI_FEATURES, CLI_FIGURES,
    CLI_WEIGHTS, CLI_EXPLAIN, CLI_PRETRAIN, CLI_N_CMDS,
} cli_cmd;

#define CLI_BIT(cmd) (1u << (cmd))

/* The request a command's options fill, by command: cli_req_of. */
typedef enum cli_req {
    CLI_REQ_JOB,     /* job_opts (src/train/job.h): train, eval, predict, lr-find, features,
                      * explain, pretrain */
    CLI_REQ_ENCODE,  /* encode_request (src/encode/encode_run.h) */
    CLI_REQ_FIGURES, /* cli_figures_req */
    CLI_REQ_WEIGHTS, /* cli_weights_req */
    CLI_REQ_N,
} cli_req;

/* What `figures` and `weights` parse (their work needs no engine struct). */
typedef struct cli_figures_req {
    fig_gallery_opts g;
    const char *format; /* --figure-format; NULL: png, or FILE's extension */
    const char *out;    /* -o: the gallery FILE, or the augment gallery's DIR */
    int augment_gallery;
} cli_figures_req;

typedef struct cli_weights_req {
    const char *key, *out, *dir;
    int quiet;
} cli_weights_req;

typedef enum cli_type {
    CLI_FLAG,   /* no value: sets the int field to 1 */
    CLI_SET,    /* no value: sets the int field to (int)lo */
    CLI_INT,    /* int in [lo, hi] */
    CLI_DOUBLE, /* double in [lo, hi] ((lo, hi] with CLI_F_OPEN_LO) */
    CLI_STRING, /* const char *, borrowed from argv */
    CLI_LIST,   /* const char *: a comma list, checked where it is used */
    CLI_CHOICE, /* int: the index in choices (case-insensitive); CLI_F_NAME: the name */
    CLI_CUSTOM, /* the row's parse handler */
    CLI_HELP,   /* prints the command's help */
} cli_type;

enum {
    CLI_F_OPEN_LO = 1 << 0, /* CLI_DOUBLE: lo itself is refused */
    CLI_F_NAME = 1 << 1,    /* CLI_CHOICE: stores the choice's name, not its index */
    CLI_F_SHARED = 1 << 2,  /* train --member: the same for every member (not a member's) */
    CLI_F_OPT_ARG = 1 << 3, /* the value is optional (--mixed-precision[=fp16]) */
};

typedef struct cli_opt cli_opt;

/* A handler stores arg for cmd into field (the row's target in req, NULL
 * where it has none there); 0 or SG_E_INVALID with the message set. */
typedef int (*cli_parse_fn)(void *req, cli_cmd cmd, void *field, const char *arg);

struct cli_opt {
    const char *name;         /* without "--"; NULL: a heading line of --help */
    char short_name;          /* 'o' for -o, or 0 */
    unsigned cmds;            /* CLI_BIT(CLI_TRAIN) | ...: the commands it applies to */
    cli_type type;
    size_t at[CLI_REQ_N];     /* offset + 1 of the field in each request; 0: none */
    double lo, hi;            /* CLI_INT, CLI_DOUBLE: range; CLI_SET: the value */
    const char *const *choices; /* CLI_CHOICE: NULL-terminated names */
    cli_parse_fn parse;       /* CLI_CUSTOM */
    const char *def;          /* the default, parsed into the request before argv */
    const char *def_text;     /* or the default in words (the request's zero or unset) */
    int unset;                /* CLI_INT/CLI_SET field without def: this, not 0 */
    const char *value;        /* the value's name in --help ("N"); NULL: from the type */
    const char *help;
    const char *alias_of;     /* an alias: the name of the row it spells */
    const char *note;         /* an alias's deprecation note */
    unsigned flags;           /* CLI_F_* */
};

/* The table, in --help order, and its length. */
extern const cli_opt cli_opts[];
extern const int cli_n_opts;

#define CLI_ROWS_MAX 320

/* Which rows argv gave (an alias counts as the row it spells). */
typedef struct cli_given {
    uint64_t bit[CLI_ROWS_MAX / 64];
} cli_given;

/* "train" for CLI_TRAIN; cli_cmd_find returns CLI_N_CMDS for an unknown name. */
const char *cli_cmd_name(cli_cmd cmd);
cli_cmd cli_cmd_find(const char *name);
cli_req cli_req_of(cli_cmd cmd);

/* The row named name (an alias resolved to its row) that applies to cmd,
 * or NULL. */
const cli_opt *cli_opt_find(const char *name, cli_cmd cmd);

/* Whether the option called name (any of its rows) was given. */
int cli_given_has(const cli_given *g, const char *name);

/* Fills req (the command's request) with the rows' defaults: cmd's own,
 * and other commands' where no row of cmd sets a field (eval batches by
 * train's --bs).  Returns 0, or SG_E_INVALID when a default does not
 * parse (a bug tests/test_options_doc.c catches). */
int cli_req_init(cli_cmd cmd, void *req);

/* Parses value into req as row o does for cmd (defaults and presets use
 * it too); 0 or SG_E_INVALID with a one-line message. */
int cli_opt_set(const cli_opt *o, cli_cmd cmd, void *req, const char *value);

/* Parses argv (argv[0] is the command's name) into req, which
 * cli_req_init has filled, adding the rows given to *given.  Returns 0
 * with argv's first operand in *first, 1 after --help printed usage and
 * the options to stdout, or SG_E_INVALID with a one-line message. */
int cli_args_parse(cli_cmd cmd, void *req, cli_given *given, int argc, char **argv,
                   const char *usage, int *first);

/* Adds the option called name (as cmd spells it) to *g, as if given. */
void cli_given_add(cli_given *g, const char *name, cli_cmd cmd);

/* The default of the option name for cmd (its def), or NULL. */
const char *cli_opt_default(const char *name, cli_cmd cmd);

/* The DSA recipe (cli_preset.c): for --dataset dsa, the values train
 * and lr-find use where the user left an option open.  Sets them in req
 * as if typed, except where g holds the option or one that overrides it. */
int cli_preset_apply(cli_cmd cmd, void *req, const cli_given *g);

/* The recipe's values of option name for cmd, as --help words
 * ("--dataset dsa: acc,gyro"), into buf; "" where it sets none. */
void cli_preset_text(char *buf, size_t size, const char *name, cli_cmd cmd);

/* Prints usage, then the options of cmd with their defaults (cli_help.c). */
void cli_help_print(FILE *f, cli_cmd cmd, const char *usage);

/* Prints docs/options.md: one table of options per command. */
void cli_help_markdown(FILE *f);

#endif
