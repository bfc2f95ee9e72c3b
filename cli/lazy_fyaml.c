/* SPDX-License-Identifier: MIT */
/*
 * libfyaml, loaded when rsap check first reads a YAML file.  Linked into
 * rsap, it made every start map and relocate one more shared library:
 * `rsap 1647` took 7% longer (bench-pairtime, 300 rounds: 0.660 ms against
 * 0.616 ms), for a parser only one command uses.  As for libpq
 * (lazy_pq.c), rsap defines the functions cli/check_yaml.c calls as
 * forwarders, each against <libfyaml.h>'s prototype so that the compiler
 * checks it; a function check_yaml.c starts to call without one here fails
 * rsap's link.
 */
#include <libfyaml.h>

#include "lazy_load.h"

static struct lazy_library libfyaml = { .file = "libfyaml.so.0", .system = true,
                                        .needed_for = "rsap check (libfyaml)" };

#define FY_FORWARD(ret, name, params, args) LAZY_FORWARD(&libfyaml, ret, name, params, args)

#define FY_FORWARD_VOID(name, params, args) LAZY_FORWARD_VOID(&libfyaml, name, params, args)

FY_FORWARD(struct fy_parser *, fy_parser_create, (const struct fy_parse_cfg *cfg), (cfg))
FY_FORWARD_VOID(fy_parser_destroy, (struct fy_parser *fyp), (fyp))
FY_FORWARD(int, fy_parser_set_string, (struct fy_parser *fyp, const char *str, size_t len),
           (fyp, str, len))
FY_FORWARD(bool, fy_parser_get_stream_error, (struct fy_parser *fyp), (fyp))
FY_FORWARD(struct fy_document *, fy_parse_load_document, (struct fy_parser *fyp), (fyp))
FY_FORWARD_VOID(fy_parse_document_destroy, (struct fy_parser *fyp, struct fy_document *fyd),
                (fyp, fyd))
FY_FORWARD(struct fy_node *, fy_document_root, (struct fy_document *fyd), (fyd))
FY_FORWARD(enum fy_node_type, fy_node_get_type, (struct fy_node *fyn), (fyn))
FY_FORWARD(enum fy_node_style, fy_node_get_style, (struct fy_node *fyn), (fyn))
FY_FORWARD(struct fy_token *, fy_node_get_scalar_token, (struct fy_node *fyn), (fyn))
FY_FORWARD(struct fy_node *, fy_node_resolve_alias, (struct fy_node *fyn), (fyn))
FY_FORWARD(const char *, fy_node_get_scalar, (struct fy_node *fyn, size_t *lenp), (fyn, lenp))
FY_FORWARD(struct fy_node *, fy_node_sequence_iterate, (struct fy_node *fyn, void **prevp),
           (fyn, prevp))
FY_FORWARD(struct fy_node_pair *, fy_node_mapping_iterate, (struct fy_node *fyn, void **prevp),
           (fyn, prevp))
FY_FORWARD(struct fy_node *, fy_node_mapping_lookup_by_string,
           (struct fy_node *fyn, const char *key, size_t len), (fyn, key, len))
FY_FORWARD(struct fy_node *, fy_node_pair_key, (struct fy_node_pair *fynp), (fynp))
FY_FORWARD(struct fy_node *, fy_node_pair_value, (struct fy_node_pair *fynp), (fynp))
FY_FORWARD(const struct fy_mark *, fy_token_start_mark, (struct fy_token *fyt), (fyt))
FY_FORWARD(struct fy_diag *, fy_diag_create, (const struct fy_diag_cfg *cfg), (cfg))
FY_FORWARD_VOID(fy_diag_unref, (struct fy_diag *diag), (diag))
FY_FORWARD(bool, fy_diag_got_error, (struct fy_diag *diag), (diag))
FY_FORWARD_VOID(fy_diag_set_collect_errors, (struct fy_diag *diag, bool collect_errors),
                (diag, collect_errors))
FY_FORWARD_VOID(fy_diag_cfg_default, (struct fy_diag_cfg *cfg), (cfg))
FY_FORWARD(struct fy_diag_error *, fy_diag_errors_iterate, (struct fy_diag *diag, void **prevp),
           (diag, prevp))
