/* npy.h - NumPy .npy (format 1.0, little-endian float32, C order). */
#ifndef SG_NPY_H
#define SG_NPY_H

#include <stddef.h>

/* Writes data with the given shape (ndim <= 8) as '<f4', atomically. */
int sg_npy_write(const char *path, const float *data, int ndim, const size_t *shape);

/* Same as sg_npy_write; fsync_file 0 skips the per-file fsync (the caller
 * syncs the folder with sg_sync_folder before declaring it complete). */
int sg_npy_write_ex(const char *path, const float *data, int ndim, const size_t *shape,
                    int fsync_file);

/* A parsed .npy header: data starts at offset, count values of item
 * bytes of kind ('f' float, 'i' signed, 'u' unsigned integer, 'U'
 * UTF-32 text of item / 4 characters; little-endian), C order. */
typedef struct sg_npy_info {
    size_t offset, item, count;
    char kind;
    int ndim;
    size_t shape[8];
} sg_npy_info;

/* Formats a format-1.0 '<f4' C-order header of exactly total bytes
 * (a multiple of 64, so the data is aligned for mmap; 0 = the smallest
 * that fits) into head (at least total, or 640, bytes).  Returns the
 * length or SG_E_SHAPE when it does not fit. */
int sg_npy_header(unsigned char *head, size_t total, int ndim, const size_t *shape);

/* Parses the header in the n bytes at buf (format 1.0-3.0, '<f4'/'<f8',
 * C order); name is for messages.  The caller checks that the data
 * (offset + count * item bytes) is all there. */
int sg_npy_parse_header(sg_npy_info *info, const unsigned char *buf, size_t n,
                        const char *name);

/* Same for any little-endian numeric or text dtype ('<f4', '<f8', '<i8',
 * '|u1', '<U12', ...: labels come in all of them); info->kind says
 * which. */
int sg_npy_parse_header_any(sg_npy_info *info, const unsigned char *buf, size_t n,
                            const char *name);

/* Reads only the header of the .npy at path (any dtype, as
 * sg_npy_parse_header_any), so that a large array's shape is known without
 * reading its data. */
int sg_npy_read_header(const char *path, sg_npy_info *info);

/* Decodes an in-memory .npy (as sg_npy_read) into a malloc'd float array. */
int sg_npy_decode(const unsigned char *buf, size_t n, const char *name, float **data, int *ndim,
                  size_t shape[8]);

/* Reads a '<f4' (or '<f8', converted) C-order .npy.  *data is malloc'd
 * and owned by the caller; shape receives up to 8 dims. */
int sg_npy_read(const char *path, float **data, int *ndim, size_t shape[8]);

#endif
