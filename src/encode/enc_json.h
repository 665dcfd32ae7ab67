/* enc_json.h - encoder settings as JSON, for config.json and checkpoint
 * metadata (so that predict re-encodes sensor data exactly as in
 * training), and the fitted state as JSON text.
 */
#ifndef SG_ENC_JSON_H
#define SG_ENC_JSON_H

#include <jansson.h>

#include "encoders/enc.h"

/* A new JSON object holding every field of p; owned by the caller. */
json_t *enc_params_to_json(const enc_params *p);

/* Reads an object written by enc_params_to_json into p (fields missing
 * from the object keep their defaults); SG_E_PARSE naming the field. */
int enc_params_from_json(enc_params *p, const json_t *obj);

/* The fit as JSON text (enc_fit_save's format); *out is malloc'd and
 * owned by the caller.  tmp_dir is a writable folder for the round trip
 * through enc_fit_save. */
int enc_fit_to_text(char **out, const enc_fit *fit, const char *tmp_dir);

/* Parses text written by enc_fit_to_text (via enc_fit_load, checking the
 * encoder and C).  The caller owns *out. */
int enc_fit_from_text(enc_fit **out, const char *text, const enc_params *p, int C,
                      const char *tmp_dir);

#endif
