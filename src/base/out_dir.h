/* out_dir.h - what an output folder holds before we write into it.
 *
 * Two jobs: telling whether a folder is empty (so that a command never
 * mixes its files with someone else's without being asked), and removing
 * the temporaries that an earlier killed run of ours left behind.  Our
 * temporaries are named ".NAME.tmpPID.N" (atomic_file.c); only that
 * exact pattern is ever removed, and only when process PID is gone (or,
 * with any_pid, regardless: a folder we are about to rewrite whole).
 */
#ifndef SG_OUT_DIR_H
#define SG_OUT_DIR_H

#include <stddef.h>

/* 1 when name is one of our temporaries (".X.tmpPID.N"); *pid gets PID. */
int sg_tmp_name_parse(const char *name, long *pid);

/* Removes our stale temporaries in dir and (depth levels of) its
 * subfolders: those whose PID is not a live process, or all of ours but
 * this process's own when any_pid is 1.  *removed (may be NULL) counts
 * them.  A missing dir is not an error. */
int sg_tmp_sweep(const char *dir, int depth, int any_pid, size_t *removed);

/* *empty = 1 when dir is missing or holds nothing but our stale
 * temporaries (which the caller sweeps first) and empty subfolders. */
int sg_dir_is_empty(const char *dir, int *empty);

#endif
