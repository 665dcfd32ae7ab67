/* run_guard.h - what `train --out RUN_DIR` may do to a folder that
 * already holds something.
 *
 * A finished or interrupted run is a user's result: training into its
 * folder again silently overwrote checkpoints and metrics.  Now a
 * non-empty RUN_DIR is refused unless the user says which they mean:
 * --resume (continue it) or --overwrite (replace it).  --overwrite
 * removes only the files a run leaves (src/train/run_files.h, top-loss
 * images, fold folders); anything else in the folder stays.
 * last.safetensors is not removed up front but replaced atomically when
 * the new run writes it, so a rerun that fails early (disk full) still
 * leaves the old, whole checkpoint (which says it is finished, so a
 * further plain `train` into the folder is refused again).  Stale temporaries of a killed
 * earlier run (".NAME.tmpPID.N") are removed in every case.
 */
#ifndef SG_RUN_GUARD_H
#define SG_RUN_GUARD_H

/* Checks (and with overwrite = 1 clears) dir for a new run as described
 * above.  Fails with SG_E_INVALID and a sentence naming --resume and
 * --overwrite when dir holds files and neither is given. */
int run_guard_prepare(const char *dir, int resume, int overwrite);

/* Removes the files a run leaves in dir (and its fold_N folders), but
 * not last.safetensors when keep_ckpt is 1.  Missing files are fine. */
int run_guard_remove_run_files(const char *dir, int keep_ckpt);

/* After a failed new run (not --resume) that wrote no checkpoint: removes
 * the files it did write (metrics.csv, config.json, figures/) and the
 * folder when it is then empty, so that nothing half-made stays behind
 * and a rerun needs no --overwrite.  Keeps this thread's error message. */
void run_guard_discard_failed(const char *dir);

/* Removes what eval writes into dir (predictions, confusion matrix, top
 * losses and their images), after a failure. */
void run_guard_remove_eval_files(const char *dir);

#endif
