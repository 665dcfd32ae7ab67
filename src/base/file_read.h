/* file_read.h - whole-file reading and small string helpers shared by
 * the readers (DSA segments, sensor CSV, images). */
#ifndef SG_FILE_READ_H
#define SG_FILE_READ_H

#include <stddef.h>

/* Reads the whole file at path into a malloc'd buffer (*buf, owned by the
 * caller, free with free(); an empty file gives a valid 1-byte-capacity
 * buffer and *size 0).  On failure *buf is NULL and the message names
 * path. */
int sg_file_read(const char *path, char **buf, size_t *size);

/* A malloc'd printf result owned by the caller, or NULL when out of
 * memory. */
char *sg_str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
