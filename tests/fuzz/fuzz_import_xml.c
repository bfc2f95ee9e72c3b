/* SPDX-License-Identifier: MIT */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fuzz_import(rsap_import_iana_xml, data, size);
        return 0;
}
