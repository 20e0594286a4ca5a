/*
 * fuzz_csv - ingest_csv over arbitrary bytes, through the plugin harness.
 *
 * The first input byte picks the options (encoding utf-8 / gb18030 / auto,
 * header on or off, delimiter ',' or ';', a declared int column or none);
 * the rest is the file, handed over as a memfd at /proc/self/fd/N. Whatever
 * the bytes, the plugin must not crash, overread or leak: every row becomes
 * a record or a dead letter. The plugin is found on the search path
 * (<exe dir>/../lib/gigflow/plugins), so build the plugins first. It is
 * loaded once more and never closed: libFuzzer keeps pointers into the
 * coverage counters of every instrumented module, and the harness would
 * unload the plugin after each input.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gigflow/harness.h>

#include "gf_loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const enc[] = {"utf-8", "gb18030", "auto", "auto"};
    static gf_loaded *keep;
    if (!keep) {
        char *err = NULL;
        if (!(keep = gf_loader_open("ingest_csv", &err))) {
            fprintf(stderr, "fuzz_csv: %s\n", err ? err : "no ingest_csv");
            abort(); /* a setup problem, not a finding: fail loudly */
        }
    }
    if (size == 0)
        return 0;
    unsigned opt = data[0];
    int fd = memfd_create("fuzz_csv", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    for (size_t off = 1; off < size;) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0)
            goto done_fd;
        off += (size_t)n;
    }
    char yaml[256];
    snprintf(yaml, sizeof yaml,
             "path: /proc/self/fd/%d\nencoding: %s\nheader: %s\n"
             "delimiter: \"%c\"\n%s",
             fd, enc[opt & 3], opt & 4 ? "false" : "true", opt & 8 ? ';' : ',',
             opt & 16 ? "types: {c1: int, a: float}\n" : "");
    char *err = NULL;
    gf_harness *h = gf_harness_new("ingest_csv", yaml, NULL, &err);
    if (!h) {
        fprintf(stderr, "fuzz_csv: %s\n",
                err ? err : "ingest_csv did not load");
        free(err);
        abort(); /* a setup problem, not a finding: fail loudly */
    }
    gf_harness_produce(h);
    gf_harness_destroy(&h);
done_fd:
    close(fd);
    return 0;
}
