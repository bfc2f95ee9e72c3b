/* SPDX-License-Identifier: MIT */
/*
 * libcurl, loaded when rsap first asks a container runtime for names
 * (lib/listen/runtime.c: `rsap listening -A` with a socket in a container).
 * Linked into rsap, libcurl would bring OpenSSL, nghttp2, libssh2, LDAP and
 * more into every start, which is why rsap-update alone links it; as for
 * libpq (lazy_pq.c), rsap defines the functions the library calls as
 * forwarders, and the first call loads the system's libcurl.so.4.  rsapd
 * and the tests link libcurl as usual.
 */
#include <stdarg.h>

#include <curl/curl.h>

#include "lazy_load.h"

static struct lazy_library libcurl = { .file = "libcurl.so.4", .system = true,
                                       .needed_for = "naming containers" };

#define CURL_FORWARD(ret, name, params, args) LAZY_FORWARD(&libcurl, ret, name, params, args)

CURL_FORWARD(CURL *, curl_easy_init, (void), ())
CURL_FORWARD(void, curl_easy_cleanup, (CURL *curl), (curl))
CURL_FORWARD(CURLM *, curl_multi_init, (void), ())
CURL_FORWARD(CURLMcode, curl_multi_add_handle, (CURLM *multi, CURL *curl), (multi, curl))
CURL_FORWARD(CURLMcode, curl_multi_remove_handle, (CURLM *multi, CURL *curl), (multi, curl))
CURL_FORWARD(CURLMcode, curl_multi_perform, (CURLM *multi, int *running), (multi, running))
CURL_FORWARD(CURLMcode, curl_multi_poll,
             (CURLM *multi, struct curl_waitfd extra_fds[], unsigned int extra_nfds,
              int timeout_ms, int *ret),
             (multi, extra_fds, extra_nfds, timeout_ms, ret))
CURL_FORWARD(CURLMsg *, curl_multi_info_read, (CURLM *multi, int *msgs_in_queue),
             (multi, msgs_in_queue))
CURL_FORWARD(CURLMcode, curl_multi_cleanup, (CURLM *multi), (multi))

/*
 * The two variadic functions take one argument after the option, whose type
 * the option's number tells (curl.h's CURLOPTTYPE_* and CURLINFO_* bases):
 * a long, a pointer (data or function: POSIX lets both pass as void *) or a
 * curl_off_t.  The names are in parentheses: curl.h makes them type-checking
 * macros.
 */
CURLcode(curl_easy_setopt)(CURL *curl, CURLoption option, ...)
{
        static CURLcode (*real)(CURL *, CURLoption, ...);
        CURLcode rc;
        va_list ap;

        if (!real)
                real = (CURLcode(*)(CURL *, CURLoption, ...))lazy_symbol(&libcurl,
                                                                        "curl_easy_setopt");
        va_start(ap, option);
        if (option < CURLOPTTYPE_OBJECTPOINT)
                rc = real(curl, option, va_arg(ap, long));
        else if (option < CURLOPTTYPE_OFF_T)
                rc = real(curl, option, va_arg(ap, void *));
        else if (option < CURLOPTTYPE_BLOB)
                rc = real(curl, option, va_arg(ap, curl_off_t));
        else
                rc = real(curl, option, va_arg(ap, void *));
        va_end(ap);
        return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode(curl_easy_getinfo)(CURL *curl, CURLINFO info, ...)
{
        static CURLcode (*real)(CURL *, CURLINFO, ...);
        CURLcode rc;
        va_list ap;

        if (!real)
                real = (CURLcode(*)(CURL *, CURLINFO, ...))lazy_symbol(&libcurl,
                                                                      "curl_easy_getinfo");
        va_start(ap, info);
        rc = real(curl, info, va_arg(ap, void *));
        va_end(ap);
        return rc;
}
