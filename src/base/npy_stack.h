/* npy_stack.h - one (N, ...) float32 .npy written row by row, and read
 * back a row at a time.
 *
 * `encode --stack` writes thousands of images into one X.npy instead of
 * one file each: rows go to their slot as they are encoded (pwrite, so
 * worker threads write concurrently and memory stays at one row per
 * thread), under a temporary name; commit drops the slots that were not
 * kept (inputs skipped by --on-error skip), writes the header with the
 * final N, and renames the file into place last.  The header is a fixed
 * 128 bytes, so the data is 64-byte aligned and numpy's
 * np.load(mmap_mode='r') maps it.  Rows are read back one at a time
 * (sg_npy_read_row) by the loader's workers.
 */
#ifndef SG_NPY_STACK_H
#define SG_NPY_STACK_H

#include <stddef.h>

#include "src/base/atomic_file.h"

enum { SG_NPY_STACK_HEADER = 128, SG_NPY_STACK_MAX_DIMS = 7 };

typedef struct sg_npy_stack {
    sg_atomic_file af;     /* the temporary file (committed/removed through af) */
    int fd;                /* a read-write descriptor of it: rows are pwritten,
                            * and pread again when commit closes gaps */
    int row_ndim;
    size_t row_shape[SG_NPY_STACK_MAX_DIMS];
    size_t row_bytes;
    int failed;            /* a pwrite failed: errno saved in err */
    int err;
} sg_npy_stack;

/* Opens path's temporary file for rows of row_shape (row_ndim dims). */
int sg_npy_stack_open(sg_npy_stack *s, const char *path, int row_ndim, const size_t *row_shape);

/* Writes one row into slot (0-based); safe to call from several threads
 * for different slots.  SG_E_IO on a failed write (disk full). */
int sg_npy_stack_put(sg_npy_stack *s, size_t slot, const float *row);

/* Finishes: of slots 0..n_slots-1, keeps those with keep[i] != 0 (keep
 * NULL: all), in order, as rows 0..N-1; writes the header, syncs and
 * renames.  On failure the temporary file is removed. */
int sg_npy_stack_commit(sg_npy_stack *s, size_t n_slots, const unsigned char *keep);

/* Removes the temporary file; safe on a finished or zeroed stack. */
void sg_npy_stack_abort(sg_npy_stack *s);

/* Reads row `row` of a float32 (N, ...) .npy (one pread, no mapping: the
 * loader's workers read rows independently).  *data is malloc'd and
 * owned by the caller; row_shape gets the remaining dims. */
int sg_npy_read_row(const char *path, size_t row, float **data, int *row_ndim,
                    size_t row_shape[7]);

#endif
