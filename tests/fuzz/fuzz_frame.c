/*
 * fuzz_frame - libFuzzer target for everything a stage does with a frame
 * received from outside: the first 40 bytes are the header frame, the rest
 * the payload. Decode and check the header, check the payload as a batch
 * (also against the count the header bytes declare, even when the header
 * is refused, so the MessagePack validator is reached often), then for an
 * accepted batch: read every record and every field (nested arrays and
 * maps walked to the bottom), look keys up, render each record as JSON
 * (which jansson must parse back), and copy each record through the writer
 * (whose output must validate again). Any disagreement aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gf_frame.h"
#include "gf_json.h"
#include "gf_mp.h"
#include "gf_out.h"
#include "gf_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t walk(const gf_value *v, unsigned depth)
{
    uint64_t n = 1;
    if ((v->type == GF_T_ARRAY || v->type == GF_T_MAP) &&
        depth > GF_MP_MAX_DEPTH)
        abort(); /* validation let something too deep through */
    if (v->type == GF_T_ARRAY) {
        gf_iter it = {0};
        gf_value e;
        uint32_t seen = 0;
        while (gf_value_elem(v, &it, &e)) {
            n += walk(&e, depth + 1);
            seen++;
        }
        if (seen != v->n)
            abort();
    } else if (v->type == GF_T_MAP) {
        gf_iter it = {0};
        gf_value k, e;
        uint32_t seen = 0;
        while (gf_value_entry(v, &it, &k, &e)) {
            n += walk(&k, depth + 1) + walk(&e, depth + 1);
            seen++;
        }
        if (seen != v->n)
            abort();
    } else if ((v->type == GF_T_STR || v->type == GF_T_BIN) &&
               v->v.s.len > v->raw_len) {
        abort();
    }
    return n;
}

static void check_record(const gf_record *rec, gf_out *out, gf_buf *json)
{
    gf_iter it = {0};
    gf_str key;
    gf_value v;
    uint32_t fields = 0;
    while (gf_record_next(rec, &it, &key, &v)) {
        walk(&v, 2);
        /* the first occurrence of each key is what get finds */
        gf_value g;
        if (!gf_record_get_n(rec, key.ptr, key.len, &g))
            abort();
        fields++;
    }
    if (fields != rec->nfields)
        abort();
    gf_value kind;
    gf_record_get(rec, "kind", &kind);

    gf_buf_clear(json);
    if (gf_json_record(json, rec) == 0) {
        json_error_t je;
        json_t *j = json_loadb((const char *)json->data, json->len,
                               JSON_ALLOW_NUL, &je);
        /* jansson itself refuses "\u0000" inside keys; the text is valid */
        if (!j && !strstr(je.text, "NUL byte in object key")) {
            fprintf(stderr, "rendered JSON does not parse: %s\n%.*s\n", je.text,
                    (int)json->len, (const char *)json->data);
            abort();
        }
        if (j)
            json_decref(j);
    }

    gf_out_begin_copy(out, rec);
    gf_out_set_int(out, "fuzz", 1);
    gf_out_unset(out, "kind");
    if (gf_out_end(out) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gf_frame_hdr h;
    const char *why = NULL;
    size_t hl = size < GF_FRAME_HDR_SIZE ? size : GF_FRAME_HDR_SIZE;
    int hdr_ok = gf_frame_decode(data, hl, &h, &why) == 0;
    if (hdr_ok && hl != GF_FRAME_HDR_SIZE)
        abort();
    const uint8_t *payload = data + hl;
    size_t plen = size - hl;
    if (hdr_ok)
        gf_frame_check_payload(&h, payload, plen, &why);

    uint32_t count = 0;
    if (size >= 28)
        count = (uint32_t)data[24] | (uint32_t)data[25] << 8 |
                (uint32_t)data[26] << 16 | (uint32_t)data[27] << 24;
    if (gf_mp_check_batch(payload, plen, count, &why) != 0)
        return 0;

    gf_out out;
    gf_buf json = {0};
    if (gf_out_init(&out, 1u << 16, NULL, NULL) != 0)
        return 0;
    const uint8_t *pos = payload;
    gf_record rec;
    uint32_t n = 0;
    while (gf_mp_batch_next(&pos, payload + plen, &rec)) {
        check_record(&rec, &out, &json);
        n++;
    }
    if (n != count || pos != payload + plen)
        abort();
    if (gf_mp_check_batch(out.batch.data, out.batch.len, out.nrec, &why) != 0)
        abort();
    gf_buf_free(&json);
    gf_out_release(&out);
    return 0;
}
