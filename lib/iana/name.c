/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <rsap/name.h>

enum rsap_name_problem rsap_name_check(const char *name)
{
        size_t len = strlen(name);
        bool letter = false;

        if (len == 0)
                return RSAP_NAME_EMPTY;
        if (len > 15)
                return RSAP_NAME_TOO_LONG;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)name[i];

                if (c > 127 || !(isalnum(c) || c == '-'))
                        return RSAP_NAME_BAD_CHARACTER;
                if (isalpha(c))
                        letter = true;
                if (c == '-' && i > 0 && name[i - 1] == '-')
                        return RSAP_NAME_DOUBLE_HYPHEN;
        }
        if (name[0] == '-' || name[len - 1] == '-')
                return RSAP_NAME_HYPHEN_AT_END;
        if (!letter)
                return RSAP_NAME_NO_LETTER;
        return RSAP_NAME_OK;
}

const char *rsap_name_problem_text(enum rsap_name_problem problem)
{
        switch (problem) {
        case RSAP_NAME_OK:
                return "a valid service name";
        case RSAP_NAME_EMPTY:
                return "a service name cannot be empty";
        case RSAP_NAME_TOO_LONG:
                return "a service name has at most 15 characters";
        case RSAP_NAME_BAD_CHARACTER:
                return "a service name has only ASCII letters, digits and '-'";
        case RSAP_NAME_NO_LETTER:
                return "a service name needs at least one letter";
        case RSAP_NAME_HYPHEN_AT_END:
                return "a service name cannot start or end with '-'";
        case RSAP_NAME_DOUBLE_HYPHEN:
                return "a service name cannot contain \"--\"";
        }
        return "an invalid service name";
}

bool rsap_name_equal(const char *a, const char *b)
{
        return strcasecmp(a, b) == 0;
}

unsigned rsap_name_hash(const char *name, size_t len)
{
        unsigned h = 2166136261u;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)name[i];

                if (c >= 'A' && c <= 'Z')
                        c = (unsigned char)(c - 'A' + 'a');
                h = (h ^ c) * 16777619u;
        }
        return h;
}
