/*
 * fuzz_json - libFuzzer target for gf_json_set_fields on arbitrary bytes
 * (the path every JSON line of ingest_jsonl and the harness takes).
 * Properties checked: a refused text sets nothing and says why; an accepted
 * one yields a record that validates, renders as JSON, and that rendering
 * is accepted again with the same number of fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_json.h"
#include "gf_mp.h"
#include "gf_out.h"
#include "gf_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gf_out out;
    char err[256];
    const char *why;
    if (gf_out_init(&out, 1u << 16, NULL, NULL) != 0)
        return 0;
    gf_out_begin(&out);
    int r = gf_json_set_fields(&out, (const char *)data, size, err, sizeof err);
    if (gf_out_end(&out) != 0)
        abort();
    if (gf_mp_check_batch(out.batch.data, out.batch.len, 1, &why) != 0)
        abort();
    gf_record rec;
    gf_record_view(&rec, out.batch.data, out.batch.len);
    if (r != 0) {
        if (err[0] == '\0' || rec.nfields != 0)
            abort();
        gf_out_release(&out);
        return 0;
    }

    char *json = NULL;
    size_t cap = 0;
    long len = gf_json_to_malloc(&rec, &json, &cap);
    if (len < 2)
        abort();
    gf_out again;
    if (gf_out_init(&again, 1u << 16, NULL, NULL) != 0)
        abort();
    gf_out_begin(&again);
    if (gf_json_set_fields(&again, json, (size_t)len, err, sizeof err) != 0) {
        fprintf(stderr, "rendering not accepted again: %s\n%s\n", err, json);
        abort();
    }
    if (gf_out_end(&again) != 0)
        abort();
    gf_record rec2;
    gf_record_view(&rec2, again.batch.data, again.batch.len);
    if (rec2.nfields != rec.nfields)
        abort();
    free(json);
    gf_out_release(&again);
    gf_out_release(&out);
    return 0;
}
