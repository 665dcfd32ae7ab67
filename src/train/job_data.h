/* job_data.h - turning the model commands' DATA arguments into a sample
 * source, a split and a transform spec (one path for photos and sensor
 * images).
 *
 *   --dataset dsa ROOT  DSA segments read with the --units/--sensors/
 *                       --axes/--subjects selection, encoded in memory
 *                       with --encoder (default gray); fitted encoders
 *                       (gray's dataset min/max, fitted mtf) are fitted on
 *                       the training part only (job_data_fit)
 *   FILE.ts, X.npy      cases of a UEA/UCR .ts file or numpy arrays
 *   CSV FILE or FOLDER  sensor recordings (a folder of *.csv or *.txt files and no
 *                       images, sensor_csv_is_recordings), read with the
 *                       CSV options (o->csv: windows, columns, labels,
 *                       subjects) into the same in-memory series as DSA
 *   FOLDER              image_folder.h layouts (manifest, train/valid,
 *                       --label-regex, class folders), or unlabelled files
 *                       for predict
 */
#ifndef SG_JOB_DATA_H
#define SG_JOB_DATA_H

#include <stddef.h>

#include "datasets/series.h"
#include "src/train/job.h"
#include "src/train/sample_source.h"
#include "src/train/split.h"
#include "src/image/transform.h"

typedef struct job_data {
    sample_source src;
    int is_series;               /* encoded in memory */
    int is_photo;                /* class-folder photos (resize + crop, augmentable) */
    unsigned char *is_valid;     /* given train/valid split (n flags), owned, or NULL */
    int c, h, w;                 /* shape of sample 0 as read */
    int n_segment_channels;      /* series: C of the segments */
    int is_csv;                  /* series read from CSV recordings with o->csv */
    int max_length;              /* series: the length cap applied (0 none;
                                  * series_length.h), recorded for eval */
} job_data;

/* The model input's height and width for d under o: --image-size, else
 * a photo's 224, else the images' own size (job_transform_spec's). */
void job_input_hw(const job_data *d, const job_opts *o, int *h, int *w);

/* Loads DATA as described above.  labelled = 1 requires labels and at
 * least two classes (training); 0 also accepts unlabelled folders.  The
 * caller owns out (job_data_free). */
int job_data_load(job_data *out, const job_opts *o, const char *path, int labelled);

/* Reads sensor DATA into *set before any encoding, exactly as
 * job_data_load reads it: a DSA root (o->dataset, with --units etc. and
 * --magnitude), CSV recordings (o->csv), a .ts file or numpy cases.
 * Returns 1 with *set filled (the caller frees it; *is_csv, when not
 * NULL, says it came from CSV recordings), 0 when path is none of these
 * (image files; *set empty), or a negative SG_E_* code with the message
 * set and *set empty.  labelled as in job_data_load; with labelled 0, CSV
 * labels are read only where o->csv_given has JOB_CSV_LABEL.  `figures
 * --gallery` reads through here, so it shows what the models are fed. */
int job_series_read(sg_series_set *set, const job_opts *o, const char *path, int labelled,
                    int *is_csv);

/* Builds a series dataset from segments already in memory, TAKING
 * OWNERSHIP of *set and fit (may be NULL), with encoder settings enc
 * (layout kept as given).  The caller owns out. */
int job_data_from_series(job_data *out, sg_series_set *set, const enc_params *enc,
                            enc_fit *fit, int workers);

/* Same for encoders stacked as channels, TAKING OWNERSHIP of *set and
 * fits[0..stack->n) (fits may be NULL); layouts kept as given. */
int job_data_from_series_stack(job_data *out, sg_series_set *set, const enc_stack *stack,
                                  enc_fit **fits, int workers);

/* Fits the encoder on the segments idx[0..n) of a series dataset and
 * installs the fit in the source; no-op for image datasets. */
int job_data_fit(job_data *d, const size_t *idx, size_t n);

/* The number of folds --cv asks for (1 without cross-validation). */
int job_n_folds(const job_data *d, const job_opts *o, int *n_folds);

/* The split for fold `fold` (0 without CV): given folders, --cv,
 * --valid-subjects, or a random --valid-pct split.  Caller owns out. */
/* Whether every sample carries a subject and there are two or more. */
int job_data_has_subjects(const job_data *d);

int job_split_make(sg_split *out, const job_data *d, const job_opts *o, int fold);

/* The same; talk 0 leaves out the note on which subjects are held out
 * (a split made only to size the batches: job_budget.h). */
int job_split_make_ex(sg_split *out, const job_data *d, const job_opts *o, int fold, int talk);

/* The transform spec for the data: geometry from --image-size (sensor
 * images are squished, photos resized by the shorter side and centre
 * cropped), photo augmentation with --augment, channel count of the
 * data; normalisation is left to the caller (normalize = 0). */
int job_transform_spec(sg_transform_spec *spec, const job_data *d, const job_opts *o);

/* Frees the dataset; accepts NULL. */
void job_data_free(job_data *d);

#endif
