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

/* Reads a '<f4' (or '<f8', converted) C-order .npy.  *data is malloc'd
 * and owned by the caller; shape receives up to 8 dims. */
int sg_npy_read(const char *path, float **data, int *ndim, size_t shape[8]);

#endif
