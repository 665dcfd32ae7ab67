/* image_folder.h - lists of image files with labels, from folders.
 *
 * Layouts understood (sg_image_folder_open detects which one):
 *   manifest   ROOT/manifest.csv written by `sensorgram encode`: a header
 *              row naming at least path and label (class name); subject,
 *              segment and source are kept when present (subject-wise
 *              splits).  Paths are relative to ROOT unless absolute.
 *              A stacked folder (`encode --stack`) names index instead
 *              of path: row `index` of ROOT/X.npy (N, C, H, W).
 *   train/valid ROOT/train/<class>/... and ROOT/valid/<class>/... (or
 *              val/): one list, is_valid marks the given split.
 *   classes    ROOT/<class>/ with .png/.jpg/.jpeg files, class names sorted (strcmp).
 *   regex      any files under ROOT (recursively), label = the first
 *              capture group of a POSIX extended regex on the file name,
 *              e.g. '^([a-z]+)\.' gives cat for cat.123.jpg.
 *   unlabeled  any image files under ROOT, label -1, sorted naturally
 *              (1.jpg, 2.jpg, ..., 10.jpg).
 * Files are listed by extension (.png, .jpg, .jpeg, any case); hidden
 * files (leading dot, e.g. atomic-write leftovers) are skipped.  Order
 * within a class is natural-sorted path order, so lists are reproducible.
 */
#ifndef SG_IMAGE_FOLDER_H
#define SG_IMAGE_FOLDER_H

#include <stddef.h>
#include <stdint.h>

#include "src/image/image.h"

/* The array of a stacked folder, beside its manifest.csv. */
#define SG_STACK_FILE "X.npy"

typedef struct sg_image_list {
    size_t n;
    char **paths;          /* n paths (ROOT joined), owned */
    int *labels;           /* n class indices, -1 when unlabelled */
    int *subjects;         /* n subject ids, -1 when unknown */
    int *segments;         /* n segment ids, -1 when unknown */
    char **sources;        /* n source descriptions or NULL entries, owned */
    unsigned char *is_valid; /* n flags from a train/valid layout, else NULL */
    size_t *rows;          /* stacked manifest: n rows of paths[i] (X.npy), else NULL */
    int n_classes;
    char **class_names;    /* n_classes names, sorted, owned */
} sg_image_list;

/* ROOT/<class>/files; classes sorted.  out is owned by the caller. */
int sg_image_folder_classes(sg_image_list *out, const char *root);

/* ROOT/manifest.csv (see above); out is owned by the caller. */
int sg_image_folder_manifest(sg_image_list *out, const char *root);

/* Labels from the first capture group of regex on each file's base
 * name; files that do not match are an error naming the file. */
int sg_image_folder_regex(sg_image_list *out, const char *root, const char *regex);

/* All images under root, unlabelled, natural-sorted. */
int sg_image_folder_unlabeled(sg_image_list *out, const char *root);

/* ROOT/train and ROOT/valid (or ROOT/val) with class folders inside;
 * class names are the union of both sides. */
int sg_image_folder_train_valid(sg_image_list *out, const char *root);

/* Detects the layout: manifest.csv, then train/ + valid/, then regex if
 * label_regex is non-NULL, then class folders. */
int sg_image_folder_open(sg_image_list *out, const char *root, const char *label_regex);

/* Fails (SG_E_INVALID, message naming root) when the list is empty, has
 * unlabelled entries, or fewer than two classes occur: training needs
 * at least two. */
int sg_image_list_check_trainable(const sg_image_list *l, const char *root);

/* Frees everything the list owns and zeroes it; accepts NULL. */
void sg_image_list_free(sg_image_list *l);

/* Natural ordering of strings (digit runs compare as numbers), as used
 * for the listings; strcmp-like result. */
int sg_natural_cmp(const char *a, const char *b);

/* loader.h sample function over an sg_image_list (ctx = the list):
 * decodes paths[index] with sg_image_read, *label = labels[index]. */
int sg_image_list_sample(void *ctx, size_t index, int train, uint64_t aug_seed, sg_image *out,
                        int *label);

/* loader.h name function: paths[index]. */
const char *sg_image_list_name(void *ctx, size_t index);

#endif
