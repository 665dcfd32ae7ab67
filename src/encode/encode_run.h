/* encode_run.h - the engine of `sensorgram encode`: sensor segments to
 * image files (encode_run.c tells how), with the request src/cli/cli_encode.c
 * parses from argv.
 */
#ifndef SG_ENCODE_RUN_H
#define SG_ENCODE_RUN_H

#include "datasets/dsa_magnitude.h"
#include "datasets/sensor_csv.h"
#include "datasets/skipped.h"
#include "src/encode/enc_stack.h"
#include "src/encode/enc_args.h"

/* What to encode and where: inputs (DSA root or CSV files), their
 * selection, the raw encoder options (for the fit and the record in
 * encoding.json), the output folder and format. */
typedef struct encode_request {
    int dsa;
    const char *units, *sensors, *axes, *subjects;
    const char *magnitude_arg;  /* --magnitude as given (fingerprint) */
    dsa_magnitude magnitude;
    sensor_csv_options csv;
    enc_args enc;
    const char *fit_on, *save_fit, *load_fit;
    const char *outdir;
    int npy, stack, depth, png_level, jobs, skip, quiet, overwrite;
    int shard_i, shard_n;       /* --shard I/N; shard_n 0: none */
    const char *merge;          /* --merge OUTDIR: inputs are parts */
    char **inputs;
    int n_inputs;
} encode_request;

/* Encodes a's inputs with the stack st into a->outdir (the folder guard
 * is the caller's: encode_outdir_guard).  Inputs that cannot be read are
 * listed in *skipped under --on-error skip.  Returns 0, SG_E_INTERRUPTED
 * after SIGINT/SIGTERM (what this run wrote is removed), or another
 * SG_E_* code with the message set. */
int encode_run(const encode_request *a, const enc_stack *st, sg_skipped *skipped);

#endif
