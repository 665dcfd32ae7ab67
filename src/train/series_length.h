/* series_length.h - series too long to encode at full length, shortened
 * before augmentation and encoding (--max-length).
 *
 * A gray image has a column per sample, and a ResNet's cost grows with
 * the columns: its deep layers, where most of the work is, run at least
 * one row high however few channels there are, so 6 channels of 2,048
 * samples cost 7.6 times DSA's 30 x 125 stack per image (counted
 * multiply-adds of ResNet18; docs/accuracy.md), and a budget of optimizer
 * steps that fits minutes for one runs for an hour for the other.
 * Averaging windows of samples (PAA, pyts's
 * PiecewiseAggregateApproximation) keeps the shape of slower movements
 * and drops only the fastest.  eval and predict shorten a checkpoint's
 * inputs to the length it recorded, so a model sees what it was trained
 * on.
 */
#ifndef SG_SERIES_LENGTH_H
#define SG_SERIES_LENGTH_H

#include "datasets/series.h"

/* --max-length auto: samples x max(channels, 16) up to this many values
 * (about 4 times the cost of DSA's 30 x 125 stack: 1,024 samples up to
 * 16 channels, 364 for 45, 256 for 64; every problem of
 * docs/accuracy.md's UEA tables and DSA are below it), and never fewer
 * than SERIES_LENGTH_AUTO_MIN samples. */
#define SERIES_LENGTH_AUTO (-1)
#define SERIES_LENGTH_AUTO_VALUES 16384
#define SERIES_LENGTH_AUTO_ROWS 16
#define SERIES_LENGTH_AUTO_MIN 64

/* The cap for --max-length `opt` (0 off, SERIES_LENGTH_AUTO, or N) on
 * series of n_channels channels: 0 for none, else a sample count. */
int series_length_cap(int opt, int n_channels);

/* Shortens every segment of set to cap samples by PAA where its length
 * is above cap (cap 0: nothing); *shortened_from (may be NULL) gets the
 * length before, or 0 when nothing changed. */
int series_length_apply(sg_series_set *set, int cap, int *shortened_from);

#endif
