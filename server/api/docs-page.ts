/**
 * GET /docs: the API reference rendered in the browser from /openapi.json by a small inline
 * script. Self-contained (no CDN, no external assets): the gateway runs offline.
 */

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>credit-ledger gateway API</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f7f8fa; }
  header { background: #1d2330; color: #fff; padding: 16px 32px; }
  header h1 { margin: 0; font-size: 20px; }
  main { max-width: 1100px; margin: 0 auto; padding: 16px 32px 64px; }
  h2 { border-bottom: 1px solid #d5d9e0; padding-bottom: 4px; margin-top: 40px; }
  details.op { background: #fff; border: 1px solid #d5d9e0; border-radius: 6px; margin: 10px 0; }
  details.op > summary { cursor: pointer; padding: 10px 14px; list-style: none; }
  .method { display: inline-block; min-width: 64px; font-weight: 700; font-family: ui-monospace, monospace; }
  .get { color: #0b7a3e; } .post { color: #1f5fbf; } .delete { color: #b42318; }
  .path { font-family: ui-monospace, monospace; }
  .scopes { float: right; color: #687184; font-size: 13px; }
  .body { padding: 0 14px 14px; }
  pre { background: #f0f2f5; padding: 10px; border-radius: 4px; overflow: auto; font-size: 13px; }
  table { border-collapse: collapse; width: 100%; font-size: 14px; }
  td, th { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e6e9ee; vertical-align: top; }
  code { font-family: ui-monospace, monospace; font-size: 13px; }
</style>
</head>
<body>
<header><h1>credit-ledger partner gateway</h1><div id="version"></div></header>
<main>
  <p id="description"></p>
  <p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authenticate with
  <code>Authorization: Bearer &lt;api key&gt;</code>; every POST needs an <code>Idempotency-Key</code>.</p>
  <div id="content">Loading /openapi.json ...</div>
</main>
<script>
(function () {
  var esc = function (s) { return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; }); };
  var el = function (html) { var d = document.createElement("div"); d.innerHTML = html; return d.firstElementChild; };
  fetch("/openapi.json").then(function (r) { return r.json(); }).then(function (doc) {
    document.getElementById("version").textContent = "version " + doc.info.version;
    document.getElementById("description").textContent = doc.info.description;
    var schemas = (doc.components && doc.components.schemas) || {};
    var resolve = function (s) { return s && s.$ref ? schemas[s.$ref.split("/").pop()] : s; };
    var example = function (s, depth) {
      s = resolve(s); depth = depth || 0;
      if (!s || depth > 6) return null;
      if (s.anyOf) return example(s.anyOf[0], depth + 1);
      if (s.oneOf) return example(s.oneOf[0], depth + 1);
      if (s.enum) return s.enum[0];
      if (s.const !== undefined) return s.const;
      var t = Array.isArray(s.type) ? s.type[0] : s.type;
      if (t === "object") { var o = {}; Object.keys(s.properties || {}).forEach(function (k) { o[k] = example(s.properties[k], depth + 1); }); return o; }
      if (t === "array") return [example(s.items, depth + 1)];
      if (t === "string") return s.pattern && s.pattern.indexOf("[0-9]") >= 0 && s.pattern.indexOf("0x") < 0 ? "10000" : "string";
      if (t === "integer" || t === "number") return 0;
      if (t === "boolean") return true;
      return null;
    };
    var content = document.getElementById("content");
    content.innerHTML = "";
    var byTag = {};
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags && op.tags[0]) || "Other";
        (byTag[tag] = byTag[tag] || []).push({ path: path, method: method, op: op });
      });
    });
    (doc.tags || []).map(function (t) { return t.name; }).forEach(function (tag) {
      if (!byTag[tag]) return;
      content.appendChild(el("<h2>" + esc(tag) + "</h2>"));
      byTag[tag].forEach(function (e) {
        var op = e.op, html = "<details class='op'><summary><span class='method " + e.method + "'>" + e.method.toUpperCase() +
          "</span> <span class='path'>" + esc(e.path) + "</span> &nbsp; " + esc(op.summary) +
          (op["x-scopes"] ? "<span class='scopes'>scopes: " + esc(op["x-scopes"].join(", ")) + "</span>" : "") + "</summary><div class='body'>";
        if (op.description) html += "<p>" + esc(op.description) + "</p>";
        if (op.parameters && op.parameters.length) {
          html += "<table><tr><th>parameter</th><th>in</th><th>required</th><th>description</th></tr>";
          op.parameters.forEach(function (p) { html += "<tr><td><code>" + esc(p.name) + "</code></td><td>" + esc(p.in) + "</td><td>" + (p.required ? "yes" : "no") + "</td><td>" + esc(p.description) + "</td></tr>"; });
          html += "</table>";
        }
        if (op.requestBody) {
          var body = op.requestBody.content["application/json"].schema;
          html += "<p><b>Request body</b></p><pre>" + esc(JSON.stringify(example(body), null, 2)) + "</pre>";
        }
        html += "<p><b>Responses</b></p><table>";
        Object.keys(op.responses).forEach(function (status) { html += "<tr><td><code>" + esc(status) + "</code></td><td>" + esc(op.responses[status].description) + "</td></tr>"; });
        html += "</table>";
        var ok = op.responses["200"] || op.responses["201"];
        if (ok && ok.content && ok.content["application/json"]) html += "<pre>" + esc(JSON.stringify(example(ok.content["application/json"].schema), null, 2)) + "</pre>";
        html += "</div></details>";
        content.appendChild(el(html));
      });
    });
  }).catch(function (e) { document.getElementById("content").textContent = "could not load /openapi.json: " + e; });
})();
</script>
</body>
</html>
`;
