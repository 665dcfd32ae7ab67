/* encode_outdir.h - an encode's output folder: refusing to mix a new run's
 * images with an earlier one's, and marking a folder while it is being
 * written so that training can tell an unfinished encode from photos.
 *
 * OUTDIR/.sensorgram-encoding is written before the first image and
 * removed after manifest.csv, so a folder that has the marker and no
 * manifest was left by an interrupted or failed encode.
 */
#ifndef SG_ENCODE_OUTDIR_H
#define SG_ENCODE_OUTDIR_H

#include <stddef.h>

#define SG_ENCODE_MARKER ".sensorgram-encoding"

/* Checks outdir before encode reads anything: removes stale temporaries
 * of killed runs, then refuses (SG_E_INVALID, a usage error) a folder
 * that holds anything unless overwrite is 1. */
int encode_outdir_guard(const char *outdir, int overwrite);

/* --overwrite, once the inputs have been read (so a failed read leaves
 * the old run whole): removes what the old manifest.csv listed (or, for
 * an unfinished encode, the .png/.npy images in its label folders) and
 * the manifest.  Other files stay. */
int encode_outdir_clear(const char *outdir);

/* A failed or interrupted encode: removes the n images it wrote (paths
 * relative to outdir; NULL entries skipped) and the marker, so nothing
 * half-made stays.  Keeps this thread's error message. */
void encode_outdir_discard(const char *outdir, char *const *rel, size_t n);

/* Writes the marker into outdir (encode is starting to write). */
int encode_mark_start(const char *outdir);

/* Removes the marker (manifest.csv is written). */
int encode_mark_done(const char *outdir);

/* Fails with a sentence when root is an unfinished encode (marker, no
 * manifest.csv), unless photos is 1 (--photos: read it as photos). */
int encode_check_unfinished(const char *root, int photos);

#endif
