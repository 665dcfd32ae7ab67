/* fuzz_sensor_csv.c - libFuzzer target for the generic sensor CSV reader.
 *
 * Built and run by tools/fuzz.sh (`make fuzz`), not by `make test`.  The
 * first input byte picks the reader options (header mode, window/stride,
 * label source, column selection) so that every code path is reachable;
 * the rest is the file's text.  Any crash, sanitizer report or leak is a
 * finding; a non-zero status with a message is the expected answer to
 * malformed input, and the message must then name the fake path.
 */
#include "datasets/sensor_csv.h"
#include "src/base/sg_error.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    sensor_csv_options opt;
    sensor_csv_options_default(&opt);
    opt.header = (sensor_csv_header)(sel % 3);
    opt.window = (sel >> 2) & 3;          /* 0 (whole file) .. 3 rows */
    opt.stride = opt.window ? (int)((sel >> 4) & 1) : 0;
    switch ((sel >> 5) & 3) {
    case 0: opt.label_from = SENSOR_CSV_LABEL_DIR; break;
    case 1: opt.label_from = SENSOR_CSV_LABEL_COLUMN; opt.label_column = "label"; break;
    case 2: opt.label_from = SENSOR_CSV_LABEL_COLUMN; opt.label_column = "0"; break;
    default: opt.label_from = SENSOR_CSV_LABEL_REGEX; opt.label_regex = "^([a-z]+)_"; break;
    }
    opt.label_first = (sel >> 7) & 1;
    if ((sel & 0x90) == 0x90)
        opt.columns = "1,x,2";

    sg_series_set set;
    int rc = sensor_csv_read_buffer(&set, (const char *)data + 1, size - 1,
                                    "walk/walk_01.csv", &opt);
    if (rc == 0) {
        /* Touch everything the reader promises, so that ASan checks it. */
        volatile double acc = 0.0;
        size_t numel = set.n * (size_t)set.n_channels * (size_t)set.n_samples;
        for (size_t i = 0; i < numel; i++)
            acc += set.data[i];
        for (size_t i = 0; i < set.n; i++)
            if (set.label[i] < 0 || set.label[i] >= set.n_classes || !set.name[i][0])
                abort();
        for (int c = 0; c < set.n_channels; c++)
            (void)strlen(set.channel_names[c]);
        (void)acc;
        sg_series_set_free(&set);
    } else if (strstr(sg_last_error(), "walk") == NULL && rc == SG_E_PARSE) {
        abort();   /* a parse error that does not name the file */
    }
    return 0;
}
