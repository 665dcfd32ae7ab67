/* atomic_file.h - write a file under a temporary name, then rename.
 *
 * Every output sensorgram writes (images, manifests, checkpoints,
 * figures, CSVs) goes through this, so an interrupted or failed run never
 * leaves a half-written file under the final name, and an existing file
 * (e.g. the previous checkpoint) stays intact until the new one is whole.
 */
#ifndef SG_ATOMIC_FILE_H
#define SG_ATOMIC_FILE_H

#include <stdio.h>

typedef struct sg_atomic_file {
    FILE *fp;          /* write here */
    char *path;        /* final name, owned */
    char *tmp_path;    /* temporary name in the same folder, owned */
    int no_fsync;      /* set after open to skip the per-file fsync (bulk
                        * writers then sync the whole folder once, see
                        * sg_sync_folder) */
} sg_atomic_file;

/* Opens a temporary file beside path for writing ("wb").  On success
 * af->fp is ready; the caller must end with commit or abort. */
int sg_atomic_open(sg_atomic_file *af, const char *path);

/* Flushes, fsyncs and closes the temporary file, then renames it over
 * the final name.  Any write error seen on the stream (ENOSPC included)
 * fails the commit, removes the temporary file and leaves the previous
 * file untouched.  Frees af's strings in every case. */
int sg_atomic_commit(sg_atomic_file *af);

/* Closes and removes the temporary file; frees af's strings.  Safe on a
 * zeroed or already finished af. */
void sg_atomic_abort(sg_atomic_file *af);

/* Convenience: atomically writes size bytes from data to path. */
int sg_atomic_write(const char *path, const void *data, size_t size);

/* Flushes the file system holding dir to disk (syncfs), for bulk writers
 * that skipped per-file fsync, before they write the file that marks the
 * folder complete. */
int sg_sync_folder(const char *dir);

/* Creates dir and its parents (mkdir -p); 0 if it already exists. */
int sg_mkdir_p(const char *dir);

#endif
