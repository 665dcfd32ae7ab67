/* fs_stat.c - see fs_stat.h. */
#include "src/base/fs_stat.h"

#include <sys/stat.h>

int sg_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sg_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}
