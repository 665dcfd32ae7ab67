/* fuzz_common.h - helpers shared by the libFuzzer targets (tools/fuzz.sh):
 * the input written to a per-process scratch file, for readers that
 * take a path. */
#ifndef SG_FUZZ_COMMON_H
#define SG_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to /tmp/sgfuzz.PID/NAME (the folder made once) and returns
 * that path in a static buffer. */
static const char *fuzz_write(const char *name, const uint8_t *data, size_t size)
{
    static char dir[64], path[128];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/sgfuzz.%ld", (long)getpid());
        mkdir(dir, 0700);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    if (fclose(f) != 0)
        abort();
    return path;
}

static const char *fuzz_dir(void)
{
    fuzz_write(".touch", (const uint8_t *)"", 0);
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/sgfuzz.%ld", (long)getpid());
    return dir;
}

#endif
