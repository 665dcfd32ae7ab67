/* npy.h - NumPy .npy (format 1.0, little-endian float32, C order). */
#ifndef SG_NPY_H
#define SG_NPY_H

#include <stddef.h>

/* Writes data with the given shape (ndim <= 8) as '<f4', atomically. */
int sg_npy_write(const char *path, const float *data, int ndim, const size_t *shape);

/* Reads a '<f4' (or '<f8', converted) C-order .npy.  *data is malloc'd
 * and owned by the caller; shape receives up to 8 dims. */
int sg_npy_read(const char *path, float **data, int *ndim, size_t shape[8]);

#endif
