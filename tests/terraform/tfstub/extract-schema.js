#!/usr/bin/env node
// Rebuild the hashicorp/aws provider schema from the generated code in the npm
// package @cdktf/provider-aws (19.65.1 describes hashicorp/aws 5.99.1).
//
// usage: node extract-schema.js <path to package/lib> > aws-schema.json
//
// Sources of truth, per resource directory lib/<name>/:
//   index.js   `X.tfResourceType = "aws_..."`; synthesizeHclAttributes() lists every
//              argument (name, attribute or block, list/set/map/struct, element type);
//              `// name - computed: true, optional: false, required: false` comments mark
//              computed-only attributes (plain getters or complex List/OutputReference).
//   index.d.ts `readonly camel?: T` (optional) vs `readonly camel: T` (required); a block
//              typed `T` rather than `T[] | IResolvable` has max_items = 1.
//
// The output is shaped like tfplugin6.GetProviderSchema.Response (snake_case keys),
// with each attribute's cty type as a JSON string. Known gaps: optional+computed
// resource arguments are only marked optional (except id and tags_all; data
// source arguments are all marked optional+computed), provider-side
// validation and defaults are absent, functions/ephemeral resources are not included.
'use strict';

const fs = require('fs');
const path = require('path');

const libDir = process.argv[2];
if (!libDir || !fs.existsSync(libDir)) {
  console.error('usage: extract-schema.js <@cdktf/provider-aws package/lib directory>');
  process.exit(2);
}

// ---------------------------------------------------------------- text helpers
function matchBrace(text, openIdx) {
  let depth = 0;
  for (let i = openIdx; i < text.length; i++) {
    const c = text[i];
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    } else if (c === '/' && text[i + 1] === '/') {
      i = text.indexOf('\n', i);
      if (i < 0) break;
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2) + 1;
    } else if (c === '"' || c === "'" || c === '`') {
      // skip string literals
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    }
  }
  throw new Error('unbalanced braces');
}

function bodyAfter(text, re) {
  const m = re.exec(text);
  if (!m) return null;
  const open = text.indexOf('{', m.index + m[0].length - 1);
  return text.slice(open + 1, matchBrace(text, open));
}

const classBody = (js, name) => bodyAfter(js, new RegExp(`\\bclass ${name} extends [\\w.]+\\s*\\{`));
const fnBody = (js, name) => bodyAfter(js, new RegExp(`\\bfunction ${name}\\(struct\\)\\s*\\{`));
const ifaceBody = (dts, name) => bodyAfter(dts, new RegExp(`\\binterface ${name}(?: extends [\\w.<>, ]+)?\\s*\\{`));

function ifaceProps(dts, name) {
  const body = ifaceBody(dts, name);
  const props = {};
  if (body === null) return props;
  const re = /^\s*readonly (\w+)(\?)?:\s*([^\n]*)/gm;
  let m;
  while ((m = re.exec(body))) props[m[1]] = { optional: !!m[2], type: m[3] };
  return props;
}

const ucfirst = (s) => s[0].toUpperCase() + s.slice(1);

// ---------------------------------------------------------------- types
const PRIM = { string: 'string', number: 'number', boolean: 'bool', any: 'dynamic' };

function storageType(kind, sc) {
  // kind: simple|list|set|map ; sc: string|number|boolean|any|stringList|stringMap|stringListList|...
  if (kind === 'simple') {
    if (!(sc in PRIM)) throw new Error(`unknown simple storage ${sc}`);
    return PRIM[sc];
  }
  const m = /^(string|number|boolean|any)((?:List|Map)*)$/.exec(sc);
  if (!m) throw new Error(`unknown storage ${kind}/${sc}`);
  let t = PRIM[m[1]];
  const wrappers = m[2].match(/List|Map/g) || [];
  // the outermost wrapper is the attribute kind itself (list/set/map)
  const inner = wrappers.slice(0, -1);
  for (const w of inner) t = [w === 'List' ? 'list' : 'map', t];
  return [kind, t];
}

function getterType(line) {
  if (/cdktf\.Fn\.tolist\(this\.getListAttribute\(/.test(line)) return ['set', 'string'];
  if (/cdktf\.Fn\.tolist\(this\.getNumberListAttribute\(/.test(line)) return ['set', 'number'];
  if (/this\.getStringAttribute\(/.test(line)) return 'string';
  if (/this\.getNumberAttribute\(/.test(line)) return 'number';
  if (/this\.getBooleanAttribute\(/.test(line)) return 'bool';
  if (/this\.getNumberListAttribute\(|Token\.asNumberList\(/.test(line)) return ['list', 'number'];
  if (/this\.getListAttribute\(/.test(line)) return ['list', 'string'];
  if (/this\.getStringMapAttribute\(/.test(line)) return ['map', 'string'];
  if (/this\.getNumberMapAttribute\(/.test(line)) return ['map', 'number'];
  if (/this\.getBooleanMapAttribute\(/.test(line)) return ['map', 'bool'];
  if (/this\.getAnyMapAttribute\(/.test(line)) return ['map', 'dynamic'];
  if (/interpolationForAttribute\(/.test(line)) return 'dynamic';
  return null;
}

// Object type of a computed complex value from its OutputReference class.
function objectTypeOf(js, refClass, seen = new Set()) {
  if (seen.has(refClass)) return 'dynamic';
  seen.add(refClass);
  const body = classBody(js, refClass);
  if (body === null) return 'dynamic';
  const attrs = computedAttrs(js, body, seen);
  const obj = {};
  for (const a of attrs) obj[a.name] = a.ctype;
  seen.delete(refClass);
  return ['object', obj];
}

function complexType(js, cls, isSet, seen) {
  if (/List$/.test(cls)) return [isSet ? 'set' : 'list', objectTypeOf(js, cls.replace(/List$/, 'OutputReference'), seen)];
  if (/Map$/.test(cls)) return ['map', objectTypeOf(js, cls.replace(/Map$/, 'OutputReference'), seen)];
  if (/OutputReference$/.test(cls)) return objectTypeOf(js, cls, seen);
  return 'dynamic';
}

// computed-only attributes declared in a class body
function computedAttrs(js, body, seen = new Set()) {
  const out = [];
  const re = /\/\/ (\w+) - computed: true, optional: false, required: false\n([^\n]*)\n([^\n]*)/g;
  let m;
  while ((m = re.exec(body))) {
    const [, name, l1, l2] = m;
    let ctype = null;
    let nm = /(?:this\.)?_\w+ = new (\w+)\(this, "\w+"(?:, (true|false))?\)/.exec(l1);
    if (nm) ctype = complexType(js, nm[1], nm[2] === 'true', seen);
    else if (/^\s*get \w+\(\)/.test(l1)) {
      ctype = getterType(l2);
      if (ctype === null) {
        const r = /return this\.(_\w+);/.exec(l2);
        if (r) {
          const init = new RegExp(`(?:this\\.)?${r[1]} = new (\\w+)\\(this, "\\w+"(?:, (true|false))?\\)`).exec(body);
          if (init) ctype = complexType(js, init[1], init[2] === 'true', seen);
        }
      }
    }
    if (ctype === null) ctype = 'dynamic';
    out.push({ name, ctype });
  }
  return out;
}

// ---------------------------------------------------------------- blocks
const ATTR_RE = /^\s*(\w+): \{\n\s*value: ([^\n]*),\n\s*isBlock: (true|false),\n\s*type: "(\w+)",\n\s*storageClassType: "(\w+)",\n\s*\}/gm;

function camelOf(value) {
  const all = [...value.matchAll(/(?:this\._|struct!?\.)(\w+)/g)];
  return all.length ? all[all.length - 1][1] : null;
}

function buildBlock(ctx, synthBody, props, refClassBody, inSet) {
  const attributes = [];
  const block_types = [];
  const names = new Set();
  let m;
  const attrsStart = synthBody.indexOf('const attrs = {');
  const attrsText = attrsStart >= 0 ? synthBody.slice(attrsStart) : '';
  ATTR_RE.lastIndex = 0;
  const entries = [];
  while ((m = ATTR_RE.exec(attrsText))) entries.push(m.slice(1));
  for (const [name, value, isBlock, kind, sc] of entries) {
    if (ctx.skip && ctx.skip.has(name)) continue;
    const camel = camelOf(value);
    const p = (camel && props[camel]) || { optional: true, type: '' };
    names.add(name);
    if (isBlock === 'true') {
      const fm = /(\w+)ToHclTerraform\b/.exec(value.replace(/cdktf\.\w+ToHclTerraform/g, ''));
      if (!fm) throw new Error(`${ctx.type}.${name}: no struct function in ${value}`);
      const fn = fm[1] + 'ToHclTerraform';
      const structName = ucfirst(fm[1]);
      const nesting = { list: 'LIST', set: 'SET', struct: 'SINGLE', map: 'MAP' }[kind];
      if (!nesting) throw new Error(`${ctx.type}.${name}: unknown block kind ${kind}`);
      const sub = buildBlock(
        ctx,
        fnBody(ctx.js, fn) || '',
        ifaceProps(ctx.dts, structName),
        classBody(ctx.js, structName + 'OutputReference') || '',
        inSet || nesting === 'SET'
      );
      const nb = { type_name: name, block: sub, nesting };
      const single = !/\[\]/.test(p.type);
      if (nesting === 'LIST' || nesting === 'SET') {
        if (!p.optional) nb.min_items = 1;
        if (nesting === 'LIST' && single) nb.max_items = 1;
      }
      block_types.push(nb);
    } else {
      let t = storageType(kind, sc);
      if (inSet && t === 'dynamic') t = 'string';
      const a = { name, type: JSON.stringify(t) };
      if (!p.optional) a.required = true;
      else {
        a.optional = true;
        if (name === 'id' || name === 'tags_all' || ctx.dataSource) a.computed = true;
      }
      attributes.push(a);
    }
  }
  for (const c of computedAttrs(ctx.js, refClassBody)) {
    if (names.has(c.name)) continue;
    names.add(c.name);
    let t = c.ctype;
    if (inSet) t = JSON.parse(JSON.stringify(t).replace(/"dynamic"/g, '"string"'));
    attributes.push({ name: c.name, type: JSON.stringify(t), computed: true });
  }
  attributes.sort((a, b) => a.name.localeCompare(b.name));
  block_types.sort((a, b) => a.type_name.localeCompare(b.type_name));
  return { version: 0, attributes, block_types };
}

// ---------------------------------------------------------------- main
const out = { provider: null, resource_schemas: {}, data_source_schemas: {} };
const errors = [];
for (const dir of fs.readdirSync(libDir).sort()) {
  const jsFile = path.join(libDir, dir, 'index.js');
  const dtsFile = path.join(libDir, dir, 'index.d.ts');
  if (!fs.existsSync(jsFile) || !fs.existsSync(dtsFile)) continue;
  const js = fs.readFileSync(jsFile, 'utf8');
  const tm = /^(\w+)\.tfResourceType = "(\w+)";$/m.exec(js);
  if (!tm) continue;
  const [, cls, type] = tm;
  const baseM = new RegExp(`class ${cls} extends cdktf\\.(\\w+)`).exec(js);
  if (!baseM) continue;
  const base = baseM[1];
  const dts = fs.readFileSync(dtsFile, 'utf8');
  // Data source arguments are nearly always optional+computed (aws_region.name,
  // aws_ami.id ...); mark them so, so that mock_data defaults can fill them.
  const ctx = {
    js,
    dts,
    type,
    dataSource: base === 'TerraformDataSource',
    skip: base === 'TerraformProvider' ? new Set(['alias']) : null,
  };
  try {
    const body = classBody(js, cls);
    const synth = bodyAfter(body, /\bsynthesizeHclAttributes\(\)\s*\{/) || '';
    const block = buildBlock(ctx, synth, ifaceProps(dts, cls + 'Config'), body, false);
    const schema = { version: 0, block };
    if (base === 'TerraformProvider') out.provider = schema;
    else if (base === 'TerraformDataSource') out.data_source_schemas[type] = schema;
    else out.resource_schemas[type] = schema;
  } catch (e) {
    errors.push(`${dir}: ${e.message}`);
  }
}
if (errors.length) {
  console.error(errors.join('\n'));
  process.exit(1);
}
if (!out.provider) {
  console.error('provider schema not found');
  process.exit(1);
}
process.stderr.write(
  `extract-schema: ${Object.keys(out.resource_schemas).length} resources, ` +
    `${Object.keys(out.data_source_schemas).length} data sources\n`
);
process.stdout.write(JSON.stringify(out));
