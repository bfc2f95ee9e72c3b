/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Text from outside (process names, paths, registry fields, request lines)
 * made safe to print on a terminal or in a log.  Every control character
 * and every byte that is not valid UTF-8 becomes a visible escape, and a
 * backslash becomes "\\", so the escaped form can always be read back:
 *
 *   \a \b \t \n \v \f \r \e   BEL, BS, TAB, LF, VT, FF, CR, ESC
 *   \xHH                      any other C0 byte, DEL (\x7f), and a byte
 *                             that is not part of valid UTF-8 (\xff)
 *   \u0080 ... \u009f         the C1 controls, written in UTF-8 as C2 80-9F
 *   \\                        a backslash
 *
 * Everything else (printable ASCII, valid UTF-8 from U+00A0 on) is kept.
 * Valid UTF-8 here is RFC 3629's: no overlong forms, no surrogates, nothing
 * above U+10FFFF.
 */

/*
 * Writes the escaped form of in[0..len) to out (at most size bytes, always
 * NUL-terminated when size > 0, never cutting an escape or a character in
 * two) and returns the length of the whole escaped form, as snprintf does:
 * out was too small when the result is >= size.  out may be NULL with size 0.
 */
size_t rsap_text_escape(char *out, size_t size, const char *in, size_t len);

/*
 * The length of the character at in[0..len) when it is valid UTF-8 and no
 * control (C0, DEL, C1), else 0: what needs no escape but a backslash.
 */
size_t rsap_text_plain_length(const char *in, size_t len);

/* Whether in[0..len) holds anything rsap_text_escape would change. */
bool rsap_text_needs_escape(const char *in, size_t len);

/*
 * How many columns a terminal gives text that needs no escaping (an escaped
 * form, say): one per character.  Characters East Asian terminals draw
 * double-width count one, as they do for printf's padding.
 */
size_t rsap_text_columns(const char *text, size_t len);

/*
 * The first character a single-line field (allow_lf false) or a multi-line
 * one (allow_lf true: LF alone is allowed) of the registry may not hold:
 * a control character or a byte that is not valid UTF-8.  Returns its
 * offset, or -1 when the whole text is clean.
 */
long rsap_text_first_control(const char *text, bool allow_lf);
