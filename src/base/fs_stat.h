/* fs_stat.h - what a path names, by stat(2) (symbolic links followed). */
#ifndef SG_FS_STAT_H
#define SG_FS_STAT_H

/* 1 when path names a directory, else 0 (missing, unreadable, other). */
int sg_is_dir(const char *path);

/* 1 when path names a regular file, else 0. */
int sg_is_file(const char *path);

#endif
