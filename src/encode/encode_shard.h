/* encode_shard.h - `encode --shard I/N` and `encode --merge OUT PART...`.
 *
 * A shard encodes the segments whose position in the sorted input order
 * is I mod N (every shard reads and fits on all inputs, so fitted
 * encoders such as gray's dataset min/max are the same in every part)
 * and writes OUTDIR/manifest.part-I-of-N.csv instead of manifest.csv:
 *
 *   sensorgram-manifest-part,I,N,TOTAL,FINGERPRINT
 *   index,path,label,subject,segment,source
 *   <position in the input order>,<the manifest row>
 *   ...
 *
 * FINGERPRINT (hex FNV-1a over the inputs' sources and the encoder's
 * output shape) ties the parts of one job together.  Merging checks
 * that the parts agree, cover 0..N-1 once each, that every image they
 * list exists under OUT, and writes OUT/manifest.csv atomically with
 * the rows in input order: byte for byte what one `encode` writes.  The
 * last shard to finish merges by itself when it finds all N parts.
 */
#ifndef SG_ENCODE_SHARD_H
#define SG_ENCODE_SHARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Parses "I/N" (0 <= I < N); SG_E_INVALID with a message otherwise. */
int encode_shard_parse(const char *arg, int *i, int *n);

/* One manifest row, borrowed. */
typedef struct encode_part_row {
    size_t index;
    const char *path, *label, *subject, *segment, *source;
} encode_part_row;

/* Writes OUTDIR/manifest.part-I-of-N.csv atomically. */
int encode_part_write(const char *outdir, int i, int n, size_t total, uint64_t fingerprint,
                      const encode_part_row *rows, size_t n_rows);

/* FNV-1a over n strings and a few integers (the job's identity). */
uint64_t encode_fingerprint(const char *const *sources, size_t n, const int *ints, int n_ints);

/* Merges the part files into OUT/manifest.csv (see above); *rows gets
 * the number of rows written. */
int encode_merge(const char *out, char *const *parts, int n_parts, size_t *rows);

/* After shard I of N wrote its part into outdir: when all N parts with
 * the same fingerprint are there, merges them (*merged = 1). */
int encode_merge_if_complete(const char *outdir, int n, uint64_t fingerprint, int *merged);

/* Writes one CSV field (sg_csv_write_field), then ',' or '\n'. */
void encode_csv_field(FILE *f, const char *s, int last);

#endif
