'use strict';
// Load a Terraform root module and every local module it calls, parsed with
// @cdktf/hcl2json (HashiCorp's HCL parser compiled to WASM), and resolve simple
// expressions (literals, var.X, local.X) through module calls back to the
// root's variable defaults.
const fs = require('fs');
const path = require('path');
const { parse, getReferencesInExpression } = require('@cdktf/hcl2json');

const TF_DIR = process.env.BOXOFFICE_TF_DIR || path.resolve(__dirname, '..', '..', '..', 'terraform');

function mergeInto(acc, parsed) {
  for (const [kind, val] of Object.entries(parsed)) {
    if (kind === 'locals') {
      acc.locals = Object.assign(acc.locals || {}, ...val);
    } else if (kind === 'resource' || kind === 'data') {
      acc[kind] = acc[kind] || {};
      for (const [type, byName] of Object.entries(val)) {
        acc[kind][type] = acc[kind][type] || {};
        for (const [name, bodies] of Object.entries(byName)) acc[kind][type][name] = bodies[0];
      }
    } else if (kind === 'variable' || kind === 'output' || kind === 'module') {
      acc[kind] = acc[kind] || {};
      for (const [name, bodies] of Object.entries(val)) acc[kind][name] = bodies[0];
    } else {
      acc[kind] = (acc[kind] || []).concat(val);
    }
  }
}

async function loadModule(dir, name = 'root', parent = null, call = null) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.tf')).sort();
  const mod = {
    name, dir, parent, call, files: {}, raw: {},
    variable: {}, output: {}, module: {}, resource: {}, data: {}, locals: {}, children: {},
  };
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    mod.raw[f] = text;
    const parsed = await parse(f, text);
    mod.files[f] = parsed;
    mergeInto(mod, parsed);
  }
  for (const [callName, body] of Object.entries(mod.module)) {
    if (typeof body.source === 'string' && body.source.startsWith('./')) {
      mod.children[callName] = await loadModule(path.join(dir, body.source), callName, mod, body);
    }
  }
  return mod;
}

let cached = null;
const loadRoot = () => (cached = cached || loadModule(TF_DIR));

function allModules(root) {
  const out = [root];
  for (const c of Object.values(root.children)) out.push(...allModules(c));
  return out;
}

// every resource (or data source) of a type, across modules: [{mod, name, body}]
function resources(root, type, kind = 'resource') {
  const out = [];
  for (const mod of allModules(root)) {
    for (const [name, body] of Object.entries((mod[kind] || {})[type] || {})) out.push({ mod, name, body });
  }
  return out;
}

const EXPR = /^\$\{(.*)\}$/s;
const UNRESOLVED = Symbol('unresolved');

// Resolve a value: literals as they are; "${var.x}" through the module call (or
// the variable's default at the root); "${local.x}" through locals.
function resolve(mod, value, depth = 0) {
  if (depth > 20) return UNRESOLVED;
  if (typeof value !== 'string') return value;
  const m = EXPR.exec(value);
  if (!m) return value.includes('${') ? UNRESOLVED : value;
  const expr = m[1].trim();
  let r;
  if ((r = /^var\.(\w+)$/.exec(expr))) {
    const v = r[1];
    if (mod.call && v in mod.call) return resolve(mod.parent, mod.call[v], depth + 1);
    const decl = mod.variable[v];
    if (decl && 'default' in decl) return resolve(mod, decl.default, depth + 1);
    return UNRESOLVED;
  }
  if ((r = /^local\.(\w+)$/.exec(expr))) {
    if (r[1] in mod.locals) return resolve(mod, mod.locals[r[1]], depth + 1);
    return UNRESOLVED;
  }
  if (/^-?[0-9.]+$/.test(expr)) return Number(expr);
  if (expr === 'true' || expr === 'false') return expr === 'true';
  return UNRESOLVED;
}

// every reference (var.x, local.x, module.a.b, aws_x.y.attr, data.t.n.attr ...)
// inside any string of a (nested) parsed value
async function refs(value) {
  const strings = [];
  const walk = (v) => {
    if (typeof v === 'string') {
      if (v.includes('${')) strings.push(v);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  const out = new Set();
  for (const s of strings) for (const r of await getReferencesInExpression('x.tf', s)) out.add(r.value);
  return [...out];
}

module.exports = { TF_DIR, loadRoot, loadModule, allModules, resources, resolve, refs, UNRESOLVED };
