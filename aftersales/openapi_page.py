"""``/docs``: a service's OpenAPI document as one page to read (Chinese first, English beside),
rendered on the server from the same document as ``/openapi.json``; no script, no download."""
from __future__ import annotations

import json
from html import escape

STYLE = """body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2rem;
max-width:70rem;color:#222}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:1px solid #ddd}code,pre{font-family:ui-monospace,monospace;font-size:.85rem}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;max-height:24rem}.m{display:inline-block;
min-width:3.5rem;font-weight:bold}.roles{color:#555}details{margin:.3rem 0 1rem 1rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}"""


def _schema(doc: dict, ref: dict | None) -> str:
    if not ref:
        return ""
    name = ref.get("$ref", "").rsplit("/", 1)[-1]
    schema = doc["components"]["schemas"].get(name, ref)
    return (f"<details><summary><code>{escape(name or 'schema')}</code></summary><pre>"
            f"{escape(json.dumps(schema, ensure_ascii=False, indent=2))}</pre></details>")


def _operation(doc: dict, method: str, path: str, op: dict) -> str:
    roles = op.get("x-roles")
    who = ("角色 roles: " + ", ".join(roles)) if roles else "无需密钥 no key"
    out = [f"<h3><span class=m>{method.upper()}</span> <code>{escape(path)}</code></h3>",
           f"<p>{escape(op.get('summary', ''))} <span class=roles>({escape(who)})</span></p>"]
    params = op.get("parameters", [])
    if params:
        out.append("<table><tr><th>参数 parameter</th><th>in</th><th>required</th>"
                   "<th>schema</th></tr>" + "".join(
                       f"<tr><td><code>{escape(p['name'])}</code></td><td>{p['in']}</td>"
                       f"<td>{'yes' if p.get('required') else ''}</td><td><code>"
                       f"{escape(json.dumps(p.get('schema', {}), ensure_ascii=False))}</code>"
                       "</td></tr>" for p in params) + "</table>")
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    if body:
        out.append("<p>请求 request body:</p>" + _schema(doc, body.get("schema")))
    rows = []
    for status, resp in op.get("responses", {}).items():
        schema = resp.get("content", {}).get("application/json", {}).get("schema")
        rows.append(f"<li><b>{status}</b> {escape(resp.get('description', ''))}"
                    f"{_schema(doc, schema) if status.startswith('2') else ''}</li>")
    out.append("<p>响应 responses:</p><ul>" + "".join(rows) + "</ul>")
    return "\n".join(out)


def render(doc: dict) -> str:
    info = doc["info"]
    parts = [f"<!doctype html><html lang=zh-CN><head><meta charset=utf-8>"
             f"<meta name=viewport content='width=device-width,initial-scale=1'>"
             f"<title>接口文档 · {escape(info['title'])}</title><style>{STYLE}</style></head><body>",
             f"<h1>接口文档 · {escape(info['title'])} <small>v{escape(info['version'])}</small></h1>",
             f"<p>{escape(info.get('description', ''))}</p>",
             "<p>机器可读 machine-readable: <a href='/openapi.json'>/openapi.json</a> "
             "(OpenAPI 3.1). 密钥 keys: <code>Authorization: Bearer &lt;key&gt;</code>.</p>"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            parts.append(_operation(doc, method, path, op))
    parts.append("</body></html>")
    return "\n".join(parts)
