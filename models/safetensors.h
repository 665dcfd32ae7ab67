/* safetensors.h - read and write the safetensors weight format in C.
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON (an
 * object: tensor name -> {"dtype", "shape", "data_offsets": [begin, end]}
 * plus an optional "__metadata__" string->string map), then the data
 * buffer that the offsets index.  Files are UNTRUSTED: sg_st_open checks
 * the header length against the file size, the JSON, every entry's dtype,
 * shape and offsets (inside the buffer, begin <= end, size == numel x
 * dtype size, no overlaps, no holes) before anything reads a tensor, and
 * fails with one line "FILE: ..." naming the tensor.  No pickle, ever.
 * Reads F32, F16, BF16, F64 (and I64 for num_batches_tracked) into float32;
 * writes F32 (and I64 for integer buffers).
 */
#ifndef SG_SAFETENSORS_H
#define SG_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define SG_ST_MAX_DIMS 8

typedef enum sg_st_dtype {
    SG_ST_F32,
    SG_ST_F16,
    SG_ST_BF16,
    SG_ST_I64,
    SG_ST_F64,
} sg_st_dtype;

typedef struct sg_st_tensor {
    char *name;
    sg_st_dtype dtype;
    int ndim;
    int64_t shape[SG_ST_MAX_DIMS];
    size_t numel;
    uint64_t begin, end;   /* byte offsets into the data buffer */
} sg_st_tensor;

typedef struct sg_st_file {
    char *path;
    sg_st_tensor *tensors; /* in file order (the JSON's key order) */
    size_t n_tensors;
    char **meta_keys;      /* __metadata__, n_meta pairs */
    char **meta_values;
    size_t n_meta;
    unsigned char *data;   /* the data buffer, data_size bytes (inside raw) */
    unsigned char *raw;    /* private: the whole file as read */
    size_t data_size;
} sg_st_file;

/* Reads and validates path into f (which the caller then owns and
 * releases with sg_st_close).  Fails with SG_E_IO, or SG_E_CORRUPT and a
 * one-line message, leaving f zeroed. */
int sg_st_open(sg_st_file *f, const char *path);

/* Frees everything f owns and zeroes it; accepts NULL and zeroed f. */
void sg_st_close(sg_st_file *f);

/* The tensor named name, or NULL (pointer owned by f). */
const sg_st_tensor *sg_st_find(const sg_st_file *f, const char *name);

/* Converts tensor t of f into dst (caller-owned, t->numel floats). */
int sg_st_read_f32(const sg_st_file *f, const sg_st_tensor *t, float *dst);

/* The metadata value for key, or NULL (string owned by f). */
const char *sg_st_meta(const sg_st_file *f, const char *key);

/* Name of a dtype as written in the JSON ("F32", ...). */
const char *sg_st_dtype_name(sg_st_dtype d);

/* One tensor to write: data is numel float32 values (stored as F32, or
 * as I64 when as_int is 1), all borrowed from the caller. */
typedef struct sg_st_entry {
    const char *name;
    int ndim;
    int64_t shape[SG_ST_MAX_DIMS];
    const float *data;
    int as_int;
} sg_st_entry;

/* Writes entries and n_meta metadata pairs (keys[i] -> values[i], may be
 * 0) to path atomically: on any failure the previous file is untouched. */
int sg_st_write(const char *path, const sg_st_entry *entries, size_t n,
                const char *const *keys, const char *const *values, size_t n_meta);

#endif
