/* cli_number.h - option values as numbers, with the option named in the
 * error ("--lr: 'x' is not a number in [0, 10]").  Shared by every option
 * parser so that all of them accept and refuse alike. */
#ifndef SG_CLI_NUMBER_H
#define SG_CLI_NUMBER_H

/* A finite double in [lo, hi], or (lo, hi] when lo_open; SG_E_INVALID
 * naming --name otherwise (*out untouched). */
int cli_parse_double(double *out, const char *name, const char *s, double lo, double hi,
                     int lo_open);

/* A whole decimal number in [lo, hi]; SG_E_INVALID naming --name. */
int cli_parse_int(int *out, const char *name, const char *s, long lo, long hi);

#endif
