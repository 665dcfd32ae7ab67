/* cli_enc_opts.h - the encoder options shared by `encode` and the model
 * commands (train, lr-find, features), built into enc_params.
 *
 * Options use pyts's parameter names in kebab case (rows of the registry,
 * cli_rows.c).  Their values are collected as raw strings (enc_args)
 * while argv is scanned and turned into enc_params once at the end, after
 * --encoder has picked the defaults, so the order of the options does not
 * matter.
 */
#ifndef SG_CLI_ENC_OPTS_H
#define SG_CLI_ENC_OPTS_H

#include "encoders/enc.h"
#include "src/encode/enc_stack.h"
#include "src/encode/enc_args.h"

/* Fills p from the encoder's defaults (a->encoder, else default_encoder)
 * and the given options.  The layout keeps enc_params_default's value
 * unless --layout was given.  Returns 0 or SG_E_INVALID with a one-line
 * message naming the option. */
int cli_enc_build(enc_params *p, const enc_args *a, const char *default_encoder);

/* Fills s from --encoder: one name, or several joined by '+'
 * ("gray+gasf+rp"), each built like cli_enc_build from its own defaults
 * and the shared options.  An empty or unknown name in the list is
 * SG_E_INVALID with a one-line message naming --encoder and the list. */
int cli_enc_build_stack(enc_stack *s, const enc_args *a, const char *default_encoder);

#endif
