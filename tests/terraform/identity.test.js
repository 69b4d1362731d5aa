'use strict';
// Identity and the waiting room's admission secret in production (issue 12, item 3), on
// the parsed HCL of terraform/ and, where the contract crosses into ansible/, on the role
// that consumes the bootstrap vars. terraform test (tests/*.tftest.hcl) evaluates the
// validations with concrete values; these tests check the wiring that it cannot see.
// tests/terraform/mutate removes each guarantee in turn to show that something fails.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { loadRoot, allModules, resources, resolve } = require('./lib/hcl');

const REPO = path.resolve(__dirname, '..', '..');
const asList = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const mod = (root, name) => allModules(root).find((m) => m.name === name);
const read = (...p) => fs.readFileSync(path.join(...p), 'utf8');
const ADMISSION_ARN = '${aws_secretsmanager_secret.this["admission_secret"].arn}';

test('identity: auth_mode defaults to jwt, and production refuses none', async () => {
  const root = await loadRoot();
  const v = root.variable.auth_mode;
  assert.equal(v.default, 'jwt', 'root var.auth_mode defaults to jwt');
  assert.ok(asList(v.validation).some((x) => /var\.auth_mode == "jwt"/.test(x.condition) &&
    /var\.environment/.test(x.condition) && /"prod"/.test(x.condition)),
  'a validation refuses auth_mode none in a production environment');
  assert.equal(mod(root, 'compute').variable.auth_mode.default, 'jwt', 'the compute module defaults to jwt too');
  assert.equal(root.module.compute.auth_mode, '${var.auth_mode}');
});

test('identity: public-key algorithms only, and jwt needs the key and the issuer', async () => {
  const root = await loadRoot();
  for (const m of [root, mod(root, 'compute')]) {
    const alg = m.variable.jwt_algorithm;
    assert.equal(alg.default, 'RS256', `${m.name}: jwt_algorithm defaults to RS256`);
    const cond = asList(alg.validation).map((x) => x.condition).join(' ');
    assert.match(cond, /"RS256"/);
    assert.match(cond, /"ES256"/);
    assert.doesNotMatch(cond, /HS256/, `${m.name}: HS256 would put a shared secret in the user data`);
    const pem = asList(m.variable.jwt_public_key_pem.validation).map((x) => x.condition).join(' ');
    assert.match(pem, /BEGIN PUBLIC KEY/, `${m.name}: jwt_public_key_pem must be checked as a PEM public key`);
  }
  const needs = (name) => asList(root.variable[name].validation).some((x) =>
    new RegExp(`var\\.auth_mode != "jwt" \\|\\| var\\.${name} != null`).test(x.condition));
  assert.ok(needs('jwt_public_key_pem'), 'root: auth_mode jwt requires jwt_public_key_pem');
  assert.ok(needs('jwt_issuer'), 'root: auth_mode jwt requires jwt_issuer');
});

test('identity: the algorithm, key, issuer and audience reach the instances', async () => {
  const root = await loadRoot();
  const compute = mod(root, 'compute');
  for (const v of ['jwt_algorithm', 'jwt_public_key_pem', 'jwt_issuer', 'jwt_audience']) {
    assert.equal(root.module.compute[v], `\${var.${v}}`, `root passes ${v} to the compute module`);
  }
  const bv = compute.locals.bootstrap_vars;
  assert.equal(bv.boxoffice_auth_mode, '${var.auth_mode}');
  assert.equal(bv.boxoffice_jwt_algorithm, '${var.jwt_algorithm}');
  assert.match(bv.boxoffice_jwt_public_key, /trimspace\(var\.jwt_public_key_pem\)/);
  assert.equal(bv.boxoffice_jwt_issuer, '${var.jwt_issuer}');
  assert.equal(bv.boxoffice_jwt_audience, '${var.jwt_audience}');
  // Null at the root reaches Ansible as "", not as None.
  for (const v of ['jwt_public_key_pem', 'jwt_issuer', 'jwt_audience']) {
    assert.equal(compute.variable[v].nullable, false, `compute: var.${v} must be nullable = false`);
    assert.equal(compute.variable[v].default, '', `compute: var.${v} defaults to ""`);
  }
});

test('admission secret: generated (>= 32 characters), kept, readable by the instances, handed to Ansible', async () => {
  const root = await loadRoot();
  const compute = mod(root, 'compute');
  const spec = compute.locals.generated_secrets && compute.locals.generated_secrets.admission_secret;
  assert.ok(spec, 'compute: local.generated_secrets.admission_secret');
  assert.ok(resolve(compute, spec.length) >= 32, 'the daemon refuses an admission_secret under 32 characters');
  const [{ body: gen }] = resources(root, 'aws_secretsmanager_random_password', 'data').filter(({ mod: m }) => m.name === 'compute');
  assert.equal(gen.password_length, '${each.value.length}');
  assert.equal(gen.for_each, '${local.generated_secrets}');
  for (const type of ['aws_secretsmanager_secret', 'aws_secretsmanager_secret_version']) {
    const [{ body }] = resources(root, type).filter(({ mod: m }) => m.name === 'compute');
    assert.equal(body.for_each, '${local.generated_secrets}', `compute: ${type}.this for every generated secret`);
  }
  const [{ body: version }] = resources(root, 'aws_secretsmanager_secret_version').filter(({ mod: m }) => m.name === 'compute');
  assert.ok(asList(version.lifecycle).some((l) => asList(l.ignore_changes).includes('${secret_string}') ||
    asList(l.ignore_changes).includes('secret_string')),
  'the generated value is kept: a new one every apply would invalidate every admission token');
  assert.ok(compute.locals.secret_arns.includes(ADMISSION_ARN), 'the instance role may read the admission secret');
  assert.equal(compute.locals.bootstrap_vars.boxoffice_admission_secret_arn, ADMISSION_ARN);
  assert.equal(root.output.admission_secret_arn.value, '${module.compute.admission_secret_arn}');
});

test('admin token: its secret keeps its address history (no new secret, no new token)', async () => {
  const root = await loadRoot();
  const compute = mod(root, 'compute');
  const moved = Object.values(compute.files).flatMap((f) => asList(f.moved));
  const pairs = moved.map((m) => `${m.from} -> ${m.to}`);
  for (const t of ['aws_secretsmanager_secret', 'aws_secretsmanager_secret_version']) {
    assert.ok(pairs.includes(`\${${t}.admin_token} -> \${${t}.this["admin_token"]}`),
      `compute: moved { from = ${t}.admin_token, to = ${t}.this["admin_token"] } (found: ${pairs.join('; ')})`);
  }
});

// ---- the contract with ansible/ -------------------------------------------------------

test('contract: every bootstrap var is a variable an Ansible role declares', async () => {
  const root = await loadRoot();
  const declared = new Set();
  for (const role of fs.readdirSync(path.join(REPO, 'ansible', 'roles'))) {
    const f = path.join(REPO, 'ansible', 'roles', role, 'defaults', 'main.yml');
    if (!fs.existsSync(f)) continue;
    for (const m of read(f).matchAll(/^([a-z_][a-z0-9_]*):/gm)) declared.add(m[1]);
  }
  for (const k of Object.keys(mod(root, 'compute').locals.bootstrap_vars)) {
    assert.ok(declared.has(k), `bootstrap var ${k} is declared in no role's defaults/main.yml (a typo Ansible would ignore)`);
  }
});

test('contract: the boxoffice role defaults to jwt and delivers the key and the admission secret as files', () => {
  const defaults = read(REPO, 'ansible/roles/boxoffice/defaults/main.yml');
  assert.match(defaults, /^boxoffice_auth_mode: jwt$/m, 'the role defaults to auth_mode jwt');
  const conf = read(REPO, 'ansible/roles/boxoffice/templates/boxoffice.conf.j2');
  assert.match(conf, /^auth_mode = \{\{ boxoffice_auth_mode \}\}$/m);
  assert.match(conf, /^jwt_key_file = /m, 'the config names the public key file');
  assert.match(conf, /^admission_secret_file = /m, 'the config names the admission secret file (re-read on SIGHUP)');
  assert.doesNotMatch(conf, /^admission_secret = "\{\{/m, 'no admission secret written inline in boxoffice.conf');
  const script = read(REPO, 'ansible/roles/boxoffice/templates/boxoffice-refresh-credentials.j2');
  assert.match(script, /^refresh admission_secret "\$\{BOXOFFICE_ADMISSION_SECRET_ARN:-\}"/m,
    'the refresh timer delivers a rotated admission secret like the others');
  const env = read(REPO, 'ansible/roles/boxoffice/templates/credentials.env.j2');
  assert.match(env, /^BOXOFFICE_ADMISSION_SECRET_ARN=\{\{ boxoffice_admission_secret_arn \| quote \}\}$/m);
});
