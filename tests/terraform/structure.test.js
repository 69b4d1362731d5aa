'use strict';
// Structure tests on the parsed HCL of terraform/: module shape, wiring between
// modules, and references. `terraform validate` checks arguments against the
// provider schema; these check what it does not (dead variables, documentation,
// the module contract).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { TF_DIR, loadRoot, allModules, refs } = require('./lib/hcl');

const MODULES = ['network', 'security', 'alb', 'compute', 'database', 'cache', 'monitoring'];

test('root and every module have main.tf, variables.tf, outputs.tf and versions.tf', async () => {
  const root = await loadRoot();
  assert.deepEqual(Object.keys(root.children).sort(), [...MODULES].sort(), 'root calls exactly the seven modules');
  for (const mod of allModules(root)) {
    for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf']) {
      assert.ok(f in mod.raw, `${mod.name}: missing ${f}`);
    }
    const tfBlock = mod.files['versions.tf'].terraform[0];
    assert.ok(tfBlock.required_version, `${mod.name}: versions.tf needs required_version`);
    assert.equal(tfBlock.required_providers[0].aws.source, 'hashicorp/aws', `${mod.name}: aws provider source`);
    assert.match(tfBlock.required_providers[0].aws.version, /5\./, `${mod.name}: aws provider 5.x constraint`);
  }
});

test('every variable has a description and a type; every output a description', async () => {
  const root = await loadRoot();
  for (const mod of allModules(root)) {
    for (const [name, v] of Object.entries(mod.variable)) {
      assert.ok(v.description && v.description.length > 10, `${mod.name}: var.${name} needs a description`);
      assert.ok(v.type, `${mod.name}: var.${name} needs a type`);
    }
    for (const [name, o] of Object.entries(mod.output)) {
      assert.ok(o.description, `${mod.name}: output.${name} needs a description`);
    }
  }
});

test('module calls pass only declared variables and every required one', async () => {
  const root = await loadRoot();
  const meta = new Set(['source', 'version', 'providers', 'count', 'for_each', 'depends_on']);
  for (const mod of allModules(root)) {
    for (const [callName, child] of Object.entries(mod.children)) {
      const args = Object.keys(mod.module[callName]).filter((a) => !meta.has(a));
      for (const a of args) {
        assert.ok(a in child.variable, `${mod.name}: module.${callName} passes undeclared variable "${a}"`);
      }
      for (const [v, decl] of Object.entries(child.variable)) {
        if (!('default' in decl)) assert.ok(args.includes(v), `${mod.name}: module.${callName} misses required variable "${v}"`);
      }
    }
  }
});

test('every var., local., module. output and resource reference resolves', async () => {
  const root = await loadRoot();
  for (const mod of allModules(root)) {
    const declared = new Set();
    for (const kind of ['resource', 'data']) {
      for (const [type, byName] of Object.entries(mod[kind])) {
        for (const name of Object.keys(byName)) declared.add(`${kind === 'data' ? 'data.' : ''}${type}.${name}`);
      }
    }
    // moved blocks name the old addresses, which no longer exist by design
    const files = Object.values(mod.files).map(({ moved, ...rest }) => rest);
    for (const r of await refs(files)) {
      const p = r.split('.');
      if (p[0] === 'var') assert.ok(p[1] in mod.variable, `${mod.name}: undeclared var.${p[1]}`);
      else if (p[0] === 'local') assert.ok(p[1] in mod.locals, `${mod.name}: undeclared local.${p[1]}`);
      else if (p[0] === 'module') {
        assert.ok(p[1] in mod.children, `${mod.name}: unknown module.${p[1]}`);
        if (p[2]) assert.ok(p[2] in mod.children[p[1]].output, `${mod.name}: module.${p[1]} has no output "${p[2]}"`);
      } else if (p[0] === 'data') assert.ok(declared.has(`data.${p[1]}.${p[2]}`), `${mod.name}: unknown data.${p[1]}.${p[2]}`);
      else if (/^aws_/.test(p[0])) assert.ok(declared.has(`${p[0]}.${p[1]}`), `${mod.name}: unknown resource ${p[0]}.${p[1]}`);
    }
  }
});

test('every declared variable is used in its module', async () => {
  const root = await loadRoot();
  for (const mod of allModules(root)) {
    const used = new Set();
    for (const r of await refs(mod.files)) if (r.startsWith('var.')) used.add(r.split('.')[1]);
    // templatefile() variables are passed explicitly, so they appear in main.tf too
    for (const v of Object.keys(mod.variable)) assert.ok(used.has(v), `${mod.name}: var.${v} is declared but never used`);
  }
});

test('variables that take free-form input carry validation blocks', async () => {
  const root = await loadRoot();
  const mustValidate = {
    root: ['azs', 'vpc_cidr', 'region', 'certificate_arn', 'artifact_bucket_name', 'release_version', 'asg_min_size', 'asg_max_size', 'workers_per_instance', 'db_backup_retention_days'],
    network: ['name', 'cidr', 'azs'],
    alb: ['certificate_arn', 'deregistration_delay', 'health_check_path'],
    compute: ['min_size', 'max_size', 'release_version', 'artifact_bucket_name', 'ami_id', 'workers_per_instance'],
    database: ['engine_version', 'backup_retention_days', 'master_username', 'azs'],
    cache: ['engine_version', 'node_type', 'azs'],
    monitoring: ['alarm_email'],
    security: ['app_port', 'db_port', 'redis_port'],
  };
  for (const mod of allModules(root)) {
    for (const v of mustValidate[mod.name] || []) {
      assert.ok(mod.variable[v], `${mod.name}: var.${v} missing`);
      assert.ok(mod.variable[v].validation, `${mod.name}: var.${v} needs a validation block`);
      for (const val of mod.variable[v].validation) assert.ok(val.error_message, `${mod.name}: var.${v} validation needs an error_message`);
    }
  }
});

test('root outputs include the endpoints the issue asks for', async () => {
  const root = await loadRoot();
  for (const o of ['alb_dns_name', 'db_writer_endpoint', 'db_reader_endpoint', 'redis_primary_endpoint', 'sns_topic_arn']) {
    assert.ok(o in root.output, `missing root output ${o}`);
  }
});

test('the provider lock file and local state are git-ignored and never tracked', () => {
  const ignore = fs.readFileSync(path.join(TF_DIR, '.gitignore'), 'utf8').split('\n');
  for (const p of ['.terraform.lock.hcl', '.terraform/', '*.tfstate', '*.tfvars']) assert.ok(ignore.includes(p), `.gitignore lacks ${p}`);
  let tracked = '';
  try {
    tracked = execFileSync('git', ['ls-files', '--', '.'], { cwd: TF_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    return; // not a git checkout (e.g. a copied tree): nothing can be tracked
  }
  for (const f of tracked.split('\n').filter(Boolean)) {
    assert.ok(!/(^|\/)\.terraform\.lock\.hcl$|\.tfstate|(^|\/)\.terraform\//.test(f), `tracked: ${f}`);
  }
});

test('the user data template renders to valid bash with exactly the variables templatefile() passes', async () => {
  const root = await loadRoot();
  const compute = allModules(root).find((m) => m.name === 'compute');
  const call = /templatefile\("\$\{path\.module\}\/templates\/user-data\.sh\.tftpl", \{([\s\S]*?)\}\)/.exec(compute.raw['main.tf']);
  assert.ok(call, 'compute renders templates/user-data.sh.tftpl with templatefile()');
  const passed = [...call[1].matchAll(/^\s*(\w+)\s*=/gm)].map((m) => m[1]).sort();
  const tpl = fs.readFileSync(path.join(compute.dir, 'templates', 'user-data.sh.tftpl'), 'utf8');
  assert.ok(!tpl.includes('%{'), 'no template directives expected');
  const used = [...new Set([...tpl.replace(/\$\$\{/g, '').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))].sort();
  assert.deepEqual(used, passed, 'template variables and templatefile() arguments must match');
  const sample = {
    release_version: '0.1.0', artifact_bucket: 'bucket', aws_region: 'us-east-1',
    release_tarball: '/opt/boxoffice-release/0.1.0/boxoffice-0.1.0.tar.gz', bootstrap_vars_json: '{"a":1}',
    asg_name: 'bo-test-app', launch_hook_name: 'boxoffice-ready', ready_url: 'http://127.0.0.1:8080/api/ready',
    ready_timeout: '300',
  };
  const rendered = tpl.replace(/\$\$\{/g, '\u0000').replace(/\$\{(\w+)\}/g, (m, k) => sample[k]).replace(/\u0000/g, '${');
  execFileSync('bash', ['-n'], { input: rendered });
  assert.match(rendered, /^#!\/bin\/bash\n/);
  assert.match(rendered, /^set -euo pipefail$/m);
});

test('terraform.tfvars.example sets only declared root variables, and every required one', async () => {
  const root = await loadRoot();
  const { parse } = require('@cdktf/hcl2json');
  const example = await parse('terraform.tfvars', fs.readFileSync(path.join(TF_DIR, 'terraform.tfvars.example'), 'utf8'));
  assert.ok(Object.keys(example).length >= 10, 'the example should show the main settings');
  for (const k of Object.keys(example)) assert.ok(k in root.variable, `terraform.tfvars.example sets undeclared variable "${k}"`);
  for (const [v, decl] of Object.entries(root.variable)) {
    if (!('default' in decl)) assert.ok(v in example, `terraform.tfvars.example must set the required variable "${v}"`);
  }
});
