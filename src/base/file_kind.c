/* file_kind.c - magic-number sniffing (see file_kind.h). */
#include "src/base/file_kind.h"

#include "src/base/sg_error.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

sg_file_kind sg_file_kind_of(const unsigned char *h, size_t n)
{
    if (n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF)
        return SG_FILE_JPEG;
    if (n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0)
        return SG_FILE_PNG;
    if (n >= 6 && memcmp(h, "\x93NUMPY", 6) == 0)
        return SG_FILE_NPY;
    if (n >= 4 && memcmp(h, "PK\x03\x04", 4) == 0)
        return SG_FILE_ZIP;
    if (n >= 9 && h[8] == '{') {
        uint64_t len = 0;
        for (int i = 7; i >= 0; i--)
            len = (len << 8) | h[i];
        if (len > 1 && len < ((uint64_t)1 << 40))
            return SG_FILE_SAFETENSORS;
    }
    if (n == 0)
        return SG_FILE_UNKNOWN;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = h[i];
        /* ASCII text or UTF-8 bytes; no control characters but whitespace. */
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
            return SG_FILE_UNKNOWN;
    }
    return SG_FILE_TEXT;
}

int sg_file_kind_read(const char *path, sg_file_kind *kind)
{
    *kind = SG_FILE_UNKNOWN;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_fail(SG_E_IO, "%s: %s", path, strerror(errno));
    unsigned char head[64];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    *kind = sg_file_kind_of(head, n);
    return SG_OK;
}

const char *sg_file_kind_name(sg_file_kind kind)
{
    switch (kind) {
    case SG_FILE_JPEG: return "a JPEG image";
    case SG_FILE_PNG: return "a PNG image";
    case SG_FILE_NPY: return "a .npy array";
    case SG_FILE_ZIP: return "a ZIP archive (a PyTorch .pth?)";
    case SG_FILE_SAFETENSORS: return "a safetensors file";
    case SG_FILE_TEXT: return "a text file";
    case SG_FILE_UNKNOWN: break;
    }
    return "an unknown file";
}
