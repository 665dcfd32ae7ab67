/* run_files.h - names and formats of what a training run leaves in
 * RUN_DIR.  train/eval/lr-find write these; `sensorgram figures RUN_DIR`
 * reads them back, so this header is the contract between the two.
 *
 * metrics.csv   header: kind,phase,epoch,step,lr,momentum,train_loss,valid_loss,accuracy,log_loss,seconds
 *               kind "step":  one row per optimizer step: phase (0 frozen
 *                             head phase, 1 unfrozen; or fold number in CV),
 *                             epoch (0-based), step (global, 0-based), lr and
 *                             momentum of the head group, train_loss = the
 *                             batch's loss; other fields empty.
 *               kind "epoch": one row per epoch: phase, epoch, step (global
 *                             step at its end), train_loss (epoch mean),
 *                             valid_loss, accuracy (0..1), log_loss, seconds;
 *                             lr/momentum empty.
 * predictions.csv  validation predictions of the final model:
 *               header: path,label,pred,loss,<class 0>,<class 1>,...
 *               label and pred are class names, loss the sample's
 *               cross-entropy, then one softmax probability per class.
 * confusion_matrix.csv  header: label,<class 0>,... ; one row per true
 *               class: its name, then counts per predicted class.
 * top_losses.csv header: rank,image,label,pred,prob,loss
 *               image: a PNG/JPEG path (relative to RUN_DIR or absolute) of
 *               what the network saw (train writes in-memory sensor images
 *               to RUN_DIR/top_losses/NN.png); prob = probability of pred.
 * lr_find.csv   header: step,lr,loss,smoothed_loss
 * lr_find_suggestions.csv header: name,lr  (rows: minimum_div10, steepest)
 * config.json   the run's options, class names, encoder settings; "argv":
 *               the command line after "sensorgram" (train; runs before
 *               report.html have none).
 * cv_folds.csv  train --cv: header fold,subject,n_train,n_valid,accuracy,
 *               log_loss; then rows "mean" and "std".
 * report.html   one page over all of the above (figures/fig_report.c),
 *               written with the figures; it links files relatively.
 * explain/      where `sensorgram explain ... --out RUN/explain` leaves
 *               its figures (summary.png, per-input ones in figures/):
 *               report.html links them beside the top losses.
 * figures/      confusion_matrix.png, confusion_matrix_normalized.png,
 *               loss_curves.png, accuracy.png, lr_schedule.png,
 *               per_class_f1.png, top_losses.png, lr_find.png
 */
#ifndef SG_RUN_FILES_H
#define SG_RUN_FILES_H

#define SG_RUN_METRICS "metrics.csv"
#define SG_RUN_PREDICTIONS "predictions.csv"
#define SG_RUN_CONFUSION "confusion_matrix.csv"
#define SG_RUN_TOP_LOSSES "top_losses.csv"
#define SG_RUN_LR_FIND "lr_find.csv"
#define SG_RUN_LR_FIND_SUGGESTIONS "lr_find_suggestions.csv"
#define SG_RUN_CONFIG "config.json"
#define SG_RUN_FIGURES "figures"
#define SG_RUN_CV_FOLDS "cv_folds.csv"
#define SG_RUN_REPORT "report.html"
#define SG_RUN_EXPLAIN "explain"
#define SG_RUN_CKPT_BEST "best.safetensors"
#define SG_RUN_CKPT_LAST "last.safetensors"
/* train --cv --keep-folds: RUN_DIR/fold_N/ holds the fold's final model */
#define SG_RUN_FOLD_MODEL "model.safetensors"
/* train --member (an ensemble): RUN_DIR/member_N/ is member N's whole run */
#define SG_RUN_MEMBER_PREFIX "member_"

#endif
