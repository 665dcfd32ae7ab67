/* series.h - a set of labelled multichannel segments in memory.
 *
 * The "samples" stage of the data path: readers (dsa.c, sensor_csv.c)
 * fill an sg_series_set, encoders turn each segment into an image.
 * All segments share one shape (C channels x T samples); data is one
 * contiguous (n, C, T) double array so that fitting and encoding can walk
 * it without indirection.  Values stay double from the parse to the
 * encoder: pyts rescales in float64, and a near-constant posture axis
 * (0.01 around 9.8) turns one float rounding into 1e-3 in a GAF.
 */
#ifndef SG_SERIES_H
#define SG_SERIES_H

#include <stddef.h>

typedef struct sg_series_set {
    size_t n;              /* number of segments */
    int n_channels;        /* C */
    int n_samples;         /* T */
    double *data;          /* (n, C, T) row-major, owned */
    char **channel_names;  /* C names such as "LL_acc_x", owned */
    int *label;            /* n class indices into class_names, owned */
    int *subject;          /* n subject ids (DSA: 1..8), -1 if unknown */
    int *segment;          /* n segment ids (DSA: 1..60), -1 if unknown */
    char **source;         /* n source file paths, owned */
    char **name;           /* n output base names ("a09_p2_s10"), owned */
    int n_classes;
    char **class_names;    /* n_classes names, owned */
    int n_subject_names;
    char **subject_names;  /* names of subjects 1..n_subject_names when ids number
                            * names (CSV subjects such as "alice"), else NULL; owned */
} sg_series_set;

/* Frees everything the set owns and zeroes it; accepts NULL. */
void sg_series_set_free(sg_series_set *s);

/* Pointer to segment i's (C, T) data. */
static inline double *sg_series_at(const sg_series_set *s, size_t i)
{
    return s->data + i * (size_t)s->n_channels * (size_t)s->n_samples;
}

#endif
