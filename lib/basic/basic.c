/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>

#include <rsap/basic.h>

int rsap_grow(void *array, size_t *capacity, size_t needed, size_t item_size)
{
        void **items = array;
        size_t grown_capacity = *capacity ? *capacity : 16;
        void *grown;

        if (needed <= *capacity)
                return 0;
        while (grown_capacity < needed) {
                if (grown_capacity > SIZE_MAX / 2)
                        return -ENOMEM;
                grown_capacity *= 2;
        }
        if (item_size && grown_capacity > SIZE_MAX / item_size)
                return -ENOMEM;
        grown = realloc(*items, grown_capacity * item_size);
        if (!grown)
                return -ENOMEM;
        *items = grown;
        *capacity = grown_capacity;
        return 0;
}
