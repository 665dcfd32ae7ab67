/* enc_args.h - the encoder options as the user typed them (pyts names,
 * src/cli/cli_enc_opts.c parses them into this and builds enc_params from
 * it), kept raw because an encoder's defaults can depend on the data
 * (gray's layout on the channel count) and config.json records them. */
#ifndef SG_ENC_ARGS_H
#define SG_ENC_ARGS_H

/* Raw encoder option strings (borrowed from argv); NULL/0 = not given. */
typedef struct enc_args {
    const char *encoder;
    const char *image_size, *sample_range, *n_bins, *strategy, *dimension, *time_delay;
    const char *threshold, *percentage, *window_length, *hop, *stft_window, *scope, *layout;
    int overlapping, mtf_fitted, no_log;
} enc_args;

#endif
