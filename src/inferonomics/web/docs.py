"""`/docs`: the OpenAPI schema rendered as one HTML page on the server (Swagger UI would come from a CDN;
this page loads nothing). The machine-readable schema stays at `/openapi.json`."""

from __future__ import annotations

import html
import json
from typing import Any

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:0 auto;padding:1rem 1.5rem;
color:#222}h1{margin-bottom:.2rem}.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.4rem .9rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700;color:#fff;border-radius:3px;padding:0 .4rem;text-align:center}
.GET{background:#1f77b4}.POST{background:#2ca02c}.DELETE{background:#d62728}code{font-size:.95rem}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.4rem 0}td,th{border-bottom:1px solid #eee;
padding:.2rem .4rem;text-align:left;vertical-align:top}th{color:#666;font-weight:600}.muted{color:#666}
"""


def _ref(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not ref:
        return schema
    node: Any = spec
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part, {})
    return node if isinstance(node, dict) else {}


def _type(schema: dict[str, Any], spec: dict[str, Any]) -> str:
    s = _ref(schema, spec)
    if "anyOf" in s:
        return " | ".join(_type(x, spec) for x in s["anyOf"])
    if "enum" in s:
        return " | ".join(json.dumps(v) for v in s["enum"])
    if "const" in s:
        return json.dumps(s["const"])
    t = s.get("type", s.get("title", "object"))
    if t == "array":
        return f"list[{_type(s.get('items', {}), spec)}]"
    return str(t)


def _bounds(schema: dict[str, Any], spec: dict[str, Any]) -> str:
    s = _ref(schema, spec)
    parts = []
    for key, sym in (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maximum", "<="),
        ("exclusiveMaximum", "<"),
        ("minLength", "length >="),
        ("maxLength", "length <="),
        ("minItems", "items >="),
        ("maxItems", "items <="),
    ):
        if key in s:
            parts.append(f"{sym} {s[key]}")
    for sub in s.get("anyOf", []):
        b = _bounds(sub, spec)
        if b:
            parts.append(b)
    return ", ".join(parts)


def _fields(schema: dict[str, Any], spec: dict[str, Any]) -> str:
    s = _ref(schema, spec)
    props = s.get("properties", {})
    if not props:
        return ""
    required = set(s.get("required", []))
    rows = []
    for name, p in props.items():
        default = "(required)" if name in required else json.dumps(p.get("default"))
        rows.append(
            f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(_type(p, spec))}</td>"
            f"<td>{html.escape(default)}</td><td>{html.escape(_bounds(p, spec))}</td>"
            f"<td>{html.escape(p.get('description', ''))}</td></tr>"
        )
    return (
        "<table><tr><th>field</th><th>type</th><th>default</th><th>bounds</th><th>meaning</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def render_docs(spec: dict[str, Any]) -> str:
    """HTML for every operation of an OpenAPI document: method, path, description, body fields, responses."""
    info = spec.get("info", {})
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(info.get('title', 'API'))} API</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(info.get('title', 'API'))} API <span class='muted'>{html.escape(info.get('version', ''))}"
        "</span></h1>",
        f"<p>{html.escape(info.get('description', ''))} JSON in, JSON out; the machine-readable schema is at "
        '<a href=\'/openapi.json\'>/openapi.json</a>. Every error is <code>{"error": {"code", "message", '
        '"field"}}</code>: 422 for a field missing, of the wrong type or out of range; 400 for a product error '
        "(unknown name, inconsistent input, does not fit) or work sized over the server's budget "
        "(<code>OverBudgetError</code>, naming the field to lower); 413 for a body over 64 KiB; 429 with "
        "<code>Retry-After</code> when the heavy-work queue is full. A null result that is infinite or undefined "
        "is named under <code>undefined</code> with the reason. Responses with charts carry Plotly figures "
        "under <code>charts</code>.</p>",
    ]
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            m = method.upper()
            out.append(f"<div class='op'><p><span class='m {m}'>{m}</span> <code>{html.escape(path)}</code></p>")
            text = op.get("description") or op.get("summary") or ""
            out.append(f"<p>{html.escape(text)}</p>")
            body = (op.get("requestBody", {}).get("content", {}).get("application/json", {}) or {}).get("schema")
            if body:
                out.append("<p class='muted'>JSON body:</p>" + _fields(body, spec))
            params = op.get("parameters", [])
            if params:
                out.append(
                    "<p class='muted'>path: "
                    + ", ".join(f"<code>{html.escape(p['name'])}</code>" for p in params)
                    + "</p>"
                )
            codes = ", ".join(
                f"{html.escape(str(c))} {html.escape(r.get('description', ''))}"
                for c, r in op.get("responses", {}).items()
            )
            out.append(f"<p class='muted'>responses: {codes}</p></div>")
    out.append("</body></html>")
    return "".join(out)


__all__ = ["render_docs"]
