/* file_kind.h - what a file is, from its first bytes (magic numbers).
 *
 * Used to turn "header length 7224070674451519743 exceeds the file
 * size" into "cat.jpg is a JPEG image, not a checkpoint": every reader
 * that gets the wrong kind of file can say what it got instead.
 */
#ifndef SG_FILE_KIND_H
#define SG_FILE_KIND_H

#include <stddef.h>

typedef enum sg_file_kind {
    SG_FILE_UNKNOWN,
    SG_FILE_JPEG,
    SG_FILE_PNG,
    SG_FILE_NPY,
    SG_FILE_ZIP,         /* a PyTorch .pth (zip) or other archive */
    SG_FILE_SAFETENSORS, /* 8-byte length, then '{' */
    SG_FILE_TEXT,        /* printable text: CSV, JSON, ... */
} sg_file_kind;

/* The kind of the n bytes head (the start of a file). */
sg_file_kind sg_file_kind_of(const unsigned char *head, size_t n);

/* Reads the start of path and classifies it; SG_E_IO when unreadable. */
int sg_file_kind_read(const char *path, sg_file_kind *kind);

/* "a JPEG image", "a PNG image", "a .npy array", "a ZIP archive (a
 * PyTorch .pth?)", "a safetensors file", "a text file", "an unknown file". */
const char *sg_file_kind_name(sg_file_kind kind);

#endif
