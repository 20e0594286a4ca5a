/*
 * gf_record - reading fields of validated records (the reader half of
 * gf_host; the writer half is gf_out).
 */
#ifndef GF_RECORD_H
#define GF_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include <gigflow/record.h>

bool gf_record_get(const gf_record *rec, const char *key, gf_value *out);
bool gf_record_get_n(const gf_record *rec, const char *key, size_t key_len,
                     gf_value *out);
bool gf_record_next(const gf_record *rec, gf_iter *it, gf_str *key,
                    gf_value *val);
bool gf_value_elem(const gf_value *array, gf_iter *it, gf_value *out);
bool gf_value_entry(const gf_value *map, gf_iter *it, gf_value *key,
                    gf_value *val);
/* Make a record view of one validated map at p (len bytes). */
void gf_record_view(gf_record *rec, const uint8_t *p, size_t len);

#endif
