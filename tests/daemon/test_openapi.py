#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""docs/openapi.json against the real rsapd: every route the router knows is
documented, every documented operation is called, and every answer's status
is documented and its body validates against the schema given for it.  The
validator below covers the part of JSON Schema the document uses: type
(one or a list), const, enum, properties, required, additionalProperties,
items, anyOf, allOf and local $ref."""
import json
import os
import re
import tempfile

from rsapd_harness import Checks, Rsapd, own_network_namespace, unassigned_ports, write_token

c = Checks("openapi")
ROOT = os.environ.get("RSAP_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
SPEC = json.load(open(os.path.join(ROOT, "docs", "openapi.json")))


# ---- a small JSON Schema validator --------------------------------------------

TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def type_ok(value, name):
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, TYPES[name])


def resolve(schema):
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), ref
        node = SPEC
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def validate(value, schema, where="$"):
    """A list of problems; empty when value fits."""
    schema = resolve(schema)
    problems = []
    if "anyOf" in schema:
        if all(validate(value, s, where) for s in schema["anyOf"]):
            problems.append(f"{where}: fits none of anyOf")
    for s in schema.get("allOf", []):
        problems += validate(value, s, where)
    if "const" in schema and value != schema["const"]:
        problems.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(type_ok(value, n) for n in names):
            return problems + [f"{where}: {type(value).__name__} is not {names}"]
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                problems.append(f"{where}: '{key}' is missing")
        extra = schema.get("additionalProperties", True)
        for key, v in value.items():
            if key in props:
                problems += validate(v, props[key], f"{where}.{key}")
            elif extra is False:
                problems.append(f"{where}: '{key}' is not allowed")
            elif isinstance(extra, dict):
                problems += validate(v, extra, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            problems += validate(v, schema["items"], f"{where}[{i}]")
    return problems


# ---- matching answers to the document ------------------------------------------

def template_regex(template):
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")


TEMPLATES = [(t, template_regex(t)) for t in SPEC["paths"]]
called = set()


def operation(path):
    bare = path.split("?", 1)[0]
    # The most literal template wins (/v1/history/{port}/{protocol} over nothing).
    for template, regex in sorted(TEMPLATES, key=lambda t: t[0].count("{")):
        if regex.match(bare):
            return template
    return None


def call(d, method, path, want, body=None, token=None, raw_body=None, headers=None):
    hdrs = dict(headers or {})
    if token:
        hdrs["Authorization"] = "Bearer " + token
    status, resp_headers, data = d.request(method, path, body=raw_body if raw_body is not None else body,
                                           headers=hdrs)
    what = f"{method} {path}"
    c.equal(status, want, what)
    template = operation(path)
    if not c.check(template is not None, f"{what}: the document has the path"):
        return None
    if status == 405:
        # A method the path does not take: documented by its absence, and
        # answered with the Allow header and the usual error.
        c.check(method.lower() not in SPEC["paths"][template] and "allow" in resp_headers,
                f"{what}: 405 for an undocumented method, with Allow")
        if template.startswith("/v1/"):
            c.check(not validate(json.loads(data), {"$ref": "#/components/schemas/Error"}),
                    f"{what}: an Error body")
        return None
    op = SPEC["paths"][template].get(method.lower())
    if not c.check(op is not None, f"{what}: the document has the method"):
        return None
    called.add((template, method.lower()))
    response = op["responses"].get(str(status))
    if not c.check(response is not None, f"{what}: status {status} is documented"):
        return None
    content = response.get("content", {})
    kind = resp_headers.get("content-type", "").split(";")[0]
    if content:
        c.check(kind in content, f"{what}: answers {kind}, documented {list(content)}")
    if kind == "application/json" and kind in content:
        value = json.loads(data)
        problems = validate(value, content[kind]["schema"])
        c.check(not problems, f"{what}: the body fits the schema: {problems[:5]}")
        return value
    return None


def exercise(d, token, ports):
    call(d, "GET", "/v1/ports/1647", 200)
    call(d, "GET", "/v1/ports/99999", 400)
    call(d, "GET", "/v1/ports/1647/tcp", 200)
    call(d, "GET", "/v1/ports/1647/ipx", 400)
    call(d, "GET", "/v1/services/rsap", 200)
    call(d, "GET", "/v1/services/no-such-thing", 404)
    call(d, "GET", "/v1/services/" + "a" * 70, 400)
    call(d, "GET", "/v1/search?q=kerberos", 200)
    call(d, "GET", "/v1/search", 400)
    call(d, "GET", "/v1/list?range=1-30", 200)
    call(d, "GET", "/v1/list?range=30-1", 400)
    call(d, "GET", "/v1/ranges", 200)
    call(d, "POST", "/v1/ranges", 405)
    call(d, "GET", "/v1/status", 200)
    call(d, "GET", f"/v1/listening?port={d.port}", 200)
    call(d, "GET", "/v1/listening?port=x", 400)
    call(d, "POST", "/v1/reload", 200, token=token)
    call(d, "POST", "/v1/reload", 401)
    call(d, "POST", "/v1/reload", 400, raw_body=b"{x", token=token, headers={"Content-Type": "application/json"})
    call(d, "POST", "/v1/reload", 415, raw_body=b"{}", token=token, headers={"Content-Type": "text/plain"})
    call(d, "POST", "/v1/reload", 413, raw_body=b"{" + b" " * 70000 + b"}", token=token,
         headers={"Content-Type": "application/json"})

    def request(service, port, **extra):
        body = {"service": service, "port": port, "protocols": ["tcp"], "description": "d",
                "assignee": "A", "contact": "a@example.org"}
        body.update(extra)
        return call(d, "POST", "/v1/registry/requests", 201, body=body, token=token)

    r1 = request("oa-one", ports[0])
    call(d, "POST", "/v1/registry/requests", 400, body={"service": "x"}, token=token)
    call(d, "GET", "/v1/registry/requests", 200)
    call(d, "GET", "/v1/registry/requests?all=1", 200)
    call(d, "GET", f"/v1/registry/requests/{r1['id']}", 200)
    call(d, "GET", "/v1/registry/requests/99999", 404)
    call(d, "POST", f"/v1/registry/requests/{r1['id']}/approve", 200, body={"why": "fine"}, token=token)
    call(d, "POST", f"/v1/registry/requests/{r1['id']}/approve", 409, body={}, token=token)
    call(d, "POST", "/v1/registry/requests/99999/reject", 404, body={"why": "x"}, token=token)
    r2 = request("oa-two", ports[1])
    call(d, "POST", f"/v1/registry/requests/{r2['id']}/reject", 200, body={"why": "no"}, token=token)
    r3 = request("oa-https", 443)
    call(d, "POST", f"/v1/registry/requests/{r3['id']}/approve", 409, body={}, token=token)
    call(d, "POST", "/v1/registry/transfer", 200, body={"target": "oa-one", "to": "B"}, token=token)
    call(d, "POST", "/v1/registry/transfer", 404, body={"target": "nosuch", "to": "B"}, token=token)
    call(d, "GET", f"/v1/history/{ports[0]}", 200)
    call(d, "GET", f"/v1/history/{ports[0]}/tcp", 200)
    call(d, "GET", "/v1/history/request:x", 400)
    # rsapd's own socket is in its listening history once the recorder's first step is done.
    call(d, "GET", f"/v1/history/{d.port}?listening=1", 200)
    call(d, "GET", f"/v1/history/{d.port}/tcp?listening=1", 200)
    call(d, "GET", f"/v1/history/{d.port}?listening=maybe", 400)
    call(d, "GET", "/v1/history/oa-one?listening=1", 400)
    call(d, "POST", "/v1/registry/deassign", 200, body={"target": "oa-one"}, token=token)
    call(d, "POST", "/v1/registry/deassign", 404, body={"target": "oa-one"}, token=token)
    r4 = request("oa-four", ports[2])
    call(d, "POST", f"/v1/registry/requests/{r4['id']}/approve", 200, body={}, token=token)
    call(d, "POST", "/v1/registry/revoke", 200, body={"target": "oa-four", "why": "unused"}, token=token)
    call(d, "POST", "/v1/registry/revoke", 404, body={"target": "oa-four", "why": "again"}, token=token)
    call(d, "GET", f"/v1/pick?range={ports[3]}-{ports[3] + 50}&count=2", 200)
    call(d, "GET", "/v1/pick?count=0", 400)
    lease = call(d, "POST", "/v1/leases", 201, body={"range": f"{ports[3]}-{ports[3] + 50}", "name": "oa"}, token=token)
    call(d, "DELETE", f"/v1/leases/{lease['port']}", 200, token=token)
    call(d, "DELETE", f"/v1/leases/{lease['port']}", 404, token=token)
    call(d, "POST", "/v1/leases", 409, body={"range": "443-443"}, token=token)
    call(d, "GET", "/v1/audit", 200)

    call(d, "GET", "/", 200)
    call(d, "GET", "/search?q=http", 200)
    call(d, "GET", "/search?q=22", 303)
    call(d, "GET", "/port/1647", 200)
    call(d, "GET", "/port/x", 404)
    call(d, "DELETE", "/port/1", 405)
    call(d, "GET", "/service/http", 200)
    call(d, "GET", "/map", 200)
    call(d, "GET", "/map.svg", 200)
    call(d, "GET", "/map.js", 200)
    call(d, "GET", "/metrics", 200)

    # Every operation refuses a query parameter it does not take, and one given twice.
    for template, ops in SPEC["paths"].items():
        path = example_path(template, ports)
        for method in ops:
            call(d, method.upper(), path + "?zz=1", 400, token=token)
            for name in documented_query(template, method):
                call(d, method.upper(), f"{path}?{name}=1&{name}=1", 400, token=token)


def example_path(template, ports):
    """A path of the template the router matches."""
    values = {"port": str(ports[3]), "protocol": "tcp", "name": "rsap", "id": "1",
              "action": "approve", "target": str(ports[3])}
    return re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], template)


def documented_query(template, method):
    op = SPEC["paths"][template][method]
    return [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]


def routes_table():
    """[(template, [query names])] as daemon/routes.def's ROUTE() lines have them."""
    text = open(os.path.join(ROOT, "daemon", "routes.def")).read()
    rows = []
    for args in re.findall(r"^ROUTE\(([^()]*)\)", text, re.M):
        parts = [a.strip() for a in args.split(",")]
        rows.append((parts[1].strip('"'), [q.strip('"') for q in parts[6:] if q != "NULL"]))
    return rows


def router_query_table():
    """{template: [query names]} as the router's table has them."""
    return dict(routes_table())


def router_templates():
    return {template for template, _ in routes_table()}


def main():
    own_network_namespace()  # its ports are free in there, whatever the host runs
    documented = set(SPEC["paths"])
    routed = router_templates()
    c.equal(sorted(routed - documented), [], "every route of the router is documented")
    c.equal(sorted(documented - routed), [], "every documented path is a route")
    table = router_query_table()
    c.equal(len(table), len(routed), "the router's query table has a row per route")
    for template in documented & set(table):
        names = sorted({n for m in SPEC["paths"][template] for n in documented_query(template, m)})
        c.equal(sorted(table[template]), names, f"{template}: the query parameters documented are the router's")
    with tempfile.TemporaryDirectory() as tmp:
        path, token = write_token(tmp)
        with Rsapd("--token-file", path) as d:
            exercise(d, token, unassigned_ports(d.db_dir, 4))
    operations = {(p, m) for p, ops in SPEC["paths"].items() for m in ops}
    c.equal(sorted(operations - called), [], "every documented operation was called")
    c.finish()


if __name__ == "__main__":
    main()
