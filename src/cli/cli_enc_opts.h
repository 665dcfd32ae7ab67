/* cli_enc_opts.h - the encoder options shared by `encode` and the model
 * commands (train, eval, lr-find, features).
 *
 * Options use pyts's parameter names in kebab case.  Their values are
 * collected as raw strings while argv is scanned and turned into
 * enc_params once at the end, after --encoder has picked the defaults, so
 * the order of the options does not matter.  Each command keeps its own
 * getopt table and maps its option names to the CLI_ENC_OPT_* values
 * (the model commands say --enc-size where encode says --image-size,
 * because there --image-size is the model's input side).
 */
#ifndef SG_CLI_ENC_OPTS_H
#define SG_CLI_ENC_OPTS_H

#include "encoders/enc.h"
#include "src/encode/enc_stack.h"
#include "src/encode/enc_args.h"

/* getopt values of the encoder options; kept clear of other ranges. */
enum {
    CLI_ENC_OPT_FIRST = 0x4000,
    CLI_ENC_OPT_ENCODER = CLI_ENC_OPT_FIRST,
    CLI_ENC_OPT_IMAGE_SIZE,
    CLI_ENC_OPT_SAMPLE_RANGE,
    CLI_ENC_OPT_OVERLAPPING,
    CLI_ENC_OPT_N_BINS,
    CLI_ENC_OPT_STRATEGY,
    CLI_ENC_OPT_MTF_FITTED,
    CLI_ENC_OPT_DIMENSION,
    CLI_ENC_OPT_TIME_DELAY,
    CLI_ENC_OPT_THRESHOLD,
    CLI_ENC_OPT_PERCENTAGE,
    CLI_ENC_OPT_WINDOW_LENGTH,
    CLI_ENC_OPT_HOP,
    CLI_ENC_OPT_STFT_WINDOW,
    CLI_ENC_OPT_NO_LOG,
    CLI_ENC_OPT_SCOPE,
    CLI_ENC_OPT_LAYOUT,
    CLI_ENC_OPT_END,
};

/* Records option `opt` (a CLI_ENC_OPT_* value) with its argument; arg is
 * borrowed.  Returns 1 when opt is an encoder option, 0 when it is not. */
int cli_enc_option(enc_args *a, int opt, const char *arg);

/* Parses all of s as a decimal integer in [lo, hi] into *out; returns 0,
 * or -1 (nothing stored, no message) when it is not one. */
int cli_strict_int(const char *s, int lo, int hi, int *out);

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
