/* cli_number.h - option values as numbers: the one strict parser (the
 * whole argument must be a number in range, because `--lr 1e-3x` silently
 * training with another rate costs hours), with the option named in the
 * error ("--lr: 'x' is not a number in [0, 10]").  name NULL: no message,
 * for callers that say more (cli_enc_opts.c). */
#ifndef SG_CLI_NUMBER_H
#define SG_CLI_NUMBER_H

/* A finite double in [lo, hi], or (lo, hi] when lo_open; SG_E_INVALID
 * naming --name otherwise (*out untouched). */
int cli_parse_double(double *out, const char *name, const char *s, double lo, double hi,
                     int lo_open);

/* A whole decimal number in [lo, hi]; SG_E_INVALID naming --name. */
int cli_parse_int(int *out, const char *name, const char *s, long lo, long hi);

#endif
