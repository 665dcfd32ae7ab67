/* weights_fetch.c - `sensorgram weights fetch`: download, hash, convert.
 *
 * libcurl streams the body into an atomic temporary file while nettle
 * hashes every byte; only when the hash matches is the .pth read, checked
 * against the architecture and written as safetensors (atomically too).
 * The temporary .pth is always removed.  It deliberately has no resume
 * and no mirrors list; libcurl honours http_proxy/https_proxy/no_proxy.
 */
#include "models/weights_fetch.h"
#include "models/weights_catalog.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "models/pth_read.h"
#include "models/safetensors.h"
#include "models/weights.h"
#include "src/base/atomic_file.h"
#include "src/base/sg_error.h"

/* torchvision's torchvision/models/resnet.py; full hashes as published
 * with the files (their first 8 digits are in the file names). */
static void hex_digest(struct sha256_ctx *ctx, char hex[65])
{
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(ctx, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

int sg_sha256_file(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_fail(SG_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sha256_update(&ctx, n, buf);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return sg_fail(SG_E_IO, "%s: read error", path);
    hex_digest(&ctx, hex);
    return 0;
}

static int valid_hex(const char *s)
{
    if (!s || strlen(s) != 64)
        return 0;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s))
            return 0;
    return 1;
}

typedef struct sink {
    FILE *fp;
    struct sha256_ctx sha;
    uint64_t bytes;
    int write_failed;
    sg_fetch_progress_fn progress;
    void *progress_ctx;
} sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    sink *s = userdata;
    size_t n = size * nmemb;
    sha256_update(&s->sha, n, (const uint8_t *)ptr);
    if (fwrite(ptr, 1, n, s->fp) != n) {
        s->write_failed = errno ? errno : EIO;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    s->bytes += n;
    return n;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ultotal;
    (void)ulnow;
    sink *s = userdata;
    if (s->progress)
        s->progress(s->progress_ctx, (uint64_t)dlnow, (uint64_t)dltotal);
    return 0;
}

/* Streams url into s->fp, hashing it. */
static int download(const char *url, sink *s)
{
    CURL *c = curl_easy_init();
    if (!c)
        return sg_fail(SG_E_IO, "cannot initialise libcurl");
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    /* a stalled transfer (under 1 KB/s for a minute) is given up */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sensorgram");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    CURLcode res = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (res == CURLE_OK)
        return 0;
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(res);
    switch (res) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return sg_fail(SG_E_IO, "cannot reach %s (%s): offline? behind a proxy (set https_proxy)? "
                       "Or download the file elsewhere and run 'sensorgram weights import FILE.pth -o "
                       "OUT.safetensors'", url, why);
    case CURLE_WRITE_ERROR:
        if (s->write_failed)
            return sg_fail(SG_E_IO, "writing the download failed: %s", strerror(s->write_failed));
        break;
    case CURLE_HTTP_RETURNED_ERROR:
        return sg_fail(SG_E_IO, "download of %s failed: HTTP status %ld", url, status);
    default:
        break;
    }
    return sg_fail(SG_E_IO, "download of %s failed after %llu bytes: %s", url, (unsigned long long)s->bytes,
                   why);
}

/* Reads the downloaded .pth, checks it is src's architecture with
 * ImageNet's 1000 classes and RGB input, and writes out (atomically). */
static int convert(const char *tmp_pth, const sg_weights_source *src, const char *url, const char *out)
{
    sg_st_file f;
    int rc = sg_pth_open(&f, tmp_pth, NULL);
    if (rc != 0)
        return rc;
    sg_arch arch;
    int classes = 0, in_ch = 0;
    if (sg_torch_available()) {
        rc = sg_weights_fit(&f, &arch, &classes, &in_ch);
        if (rc == 0 && (arch != src->arch || classes != 1000 || in_ch != 3))
            rc = sg_fail(SG_E_SHAPE, "the download holds %s weights (%d classes, %d channels), not %s's",
                         sg_arch_name(arch), classes, in_ch, src->name);
    }
    sg_st_close(&f);
    if (rc == 0)
        rc = sg_weights_import(tmp_pth, NULL, out, url);
    return rc;
}

int sg_weights_fetch(const char *name, const char *dir, char *out, size_t size,
                     sg_fetch_progress_fn progress, void *progress_ctx)
{
    const sg_weights_source *src = sg_weights_source_find(name);
    if (!src)
        return sg_fail(SG_E_INVALID, "no download known for '%s' (resnet18, resnet34, resnet50, resnet50-v2)",
                       name ? name : "(null)");
    const char *url = getenv("SG_TEST_WEIGHTS_URL"), *want = getenv("SG_TEST_WEIGHTS_SHA256");
    if (!url || !*url)
        url = src->url;
    if (!want || !*want)
        want = src->sha256;
    if (!valid_hex(want))
        return sg_fail(SG_E_INVALID, "SG_TEST_WEIGHTS_SHA256 needs 64 hex digits");
    char dbuf[3072];
    int rc = 0;
    if (!dir) {
        if ((rc = sg_weights_dir(dbuf, sizeof dbuf)) != 0)
            return rc;
        dir = dbuf;
    }
    if ((rc = sg_mkdir_p(dir)) != 0)
        return rc;
    char pth[4096];
    if ((size_t)snprintf(out, size, "%s/%s.safetensors", dir, name) >= size ||
        (size_t)snprintf(pth, sizeof pth, "%s/%s.pth", dir, name) >= sizeof pth)
        return sg_fail(SG_E_INVALID, "weights path too long");
    /* the .pth only ever exists under its temporary name */
    sg_atomic_file af = {0};
    if ((rc = sg_atomic_open(&af, pth)) != 0)
        return rc;
    sink s = {.fp = af.fp, .progress = progress, .progress_ctx = progress_ctx};
    sha256_init(&s.sha);
    rc = download(url, &s);
    char got[65];
    if (rc == 0) {
        hex_digest(&s.sha, got);
        if (strcasecmp(got, want) != 0)
            rc = sg_fail(SG_E_CORRUPT, "%s: SHA-256 mismatch: got %s, expected %s (%llu bytes); not installed",
                         url, got, want, (unsigned long long)s.bytes);
    }
    if (rc == 0 && fflush(af.fp) != 0)
        rc = sg_fail(SG_E_IO, "%s: write failed: %s", af.tmp_path, strerror(errno));
    if (rc == 0 && (rc = convert(af.tmp_path, src, url, out)) != 0)
        sg_fail_context(rc, "%s (downloaded, hash matched)", url);
    sg_atomic_abort(&af);
    return rc;
}
