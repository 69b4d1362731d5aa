#!/usr/bin/env node
// Schema-only stand-in for the hashicorp/aws provider (plugin protocol 6).
//
// It answers go-plugin's handshake (magic cookie, AutoMTLS with the client
// certificate Terraform passes in PLUGIN_CLIENT_CERT), serves the AWS schema
// rebuilt by extract-schema.js, accepts every Validate* call, passes state JSON
// through UpgradeResourceState and implements Stop/Shutdown/health. Everything else
// (plan, apply, read) is UNIMPLEMENTED: it exists so that `terraform validate` and
// `terraform test` with `mock_provider "aws"` work offline. It never talks to AWS.
//
//   node server.js --encode schema.json out.pb [types.txt]
//       pre-encode the GetProviderSchema response; with types.txt (one resource or
//       data source type a line) only those types are served. Terraform decodes the
//       whole schema on every provider launch, and the full AWS schema costs about
//       1 s of CPU each time; the types a configuration does not use change nothing
//       for it (an unknown or misspelt type is still rejected, as it is not served).
//   TFSTUB_SCHEMA_PB=out.pb node server.js
//       run as a plugin (Terraform starts it through the mirror's wrapper)
//   TFSTUB_SCHEMA_PB=out.pb TFSTUB_LISTEN=unix:/path/stub.sock node server.js
//       long-lived server for TF_REATTACH_PROVIDERS (go-plugin's debug/reattach
//       mode, plain gRPC on a private unix socket): one process serves a whole
//       `terraform test` instead of one node start per provider launch. It ignores
//       Shutdown; whoever started it stops it.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const t0 = Date.now();
// TFSTUB_LOG=/path appends one line per launch (pid, startup ms, lifetime ms) for profiling.
function trace(event) {
  if (process.env.TFSTUB_LOG) fs.appendFileSync(process.env.TFSTUB_LOG, `${process.pid} ${event} ${Date.now() - t0}ms\n`);
}
process.on('exit', () => trace('exit'));

const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';

const protoDir = path.join(__dirname, 'proto');
const def = protoLoader.loadSync(
  ['tfplugin6.proto', 'health.proto', 'controller.proto'].map((f) => path.join(protoDir, f)),
  { keepCase: true, longs: Number, enums: String, defaults: false, oneofs: true }
);
const providerSvc = def['tfplugin6.Provider'];

function encodeSchema(jsonFile, typesFile) {
  const s = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  if (typesFile) {
    const keep = new Set(fs.readFileSync(typesFile, 'utf8').split(/\s+/).filter(Boolean));
    for (const m of [s.resource_schemas, s.data_source_schemas])
      for (const k of Object.keys(m)) if (!keep.has(k)) delete m[k];
  }
  const fixBlock = (b) => {
    for (const a of b.attributes) a.type = Buffer.from(a.type);
    for (const nb of b.block_types) fixBlock(nb.block);
  };
  fixBlock(s.provider.block);
  for (const m of [s.resource_schemas, s.data_source_schemas]) for (const k of Object.keys(m)) fixBlock(m[k].block);
  s.server_capabilities = { plan_destroy: true };
  return providerSvc.GetProviderSchema.responseSerialize(s);
}

if (process.argv[2] === '--encode') {
  const [, , , src, dst, typesFile] = process.argv;
  const buf = encodeSchema(src, typesFile);
  fs.writeFileSync(`${dst}.tmp.${process.pid}`, buf);
  fs.renameSync(`${dst}.tmp.${process.pid}`, dst);
  process.stderr.write(`tfstub: encoded ${buf.length} bytes to ${dst}\n`);
  process.exit(0);
}

// ---------------------------------------------------------------- handshake checks
const listen = process.env.TFSTUB_LISTEN;
if (!listen && process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
  process.stderr.write(
    'This binary is a plugin. These are not meant to be executed directly.\n' +
      'Please execute the program that consumes these plugins, which will\n' +
      'load any plugins automatically\n'
  );
  process.exit(1);
}
const versions = (process.env.PLUGIN_PROTOCOL_VERSIONS || '').split(',');
if (!listen && !versions.includes('6')) {
  process.stderr.write(`tfstub: Terraform did not offer plugin protocol 6 (offered: ${versions.join(',')})\n`);
  process.exit(1);
}
const schemaPb = process.env.TFSTUB_SCHEMA_PB;
if (!schemaPb || !fs.existsSync(schemaPb)) {
  process.stderr.write('tfstub: TFSTUB_SCHEMA_PB must point to a schema encoded with --encode\n');
  process.exit(1);
}
let schemaBuf = null;
const schemaResponse = () => (schemaBuf = schemaBuf || fs.readFileSync(schemaPb));

// ---------------------------------------------------------------- services
const ok = (resp) => (call, cb) => cb(null, resp);
const provider = {
  GetProviderSchema: (call, cb) => cb(null, schemaResponse()),
  ValidateProviderConfig: ok({ diagnostics: [] }),
  ValidateResourceConfig: ok({ diagnostics: [] }),
  ValidateDataResourceConfig: ok({ diagnostics: [] }),
  UpgradeResourceState: (call, cb) => {
    const raw = (call.request.raw_state && call.request.raw_state.json) || Buffer.from('null');
    cb(null, { upgraded_state: { json: raw }, diagnostics: [] });
  },
  StopProvider: ok({}),
};
// GetProviderSchema answers with the pre-encoded bytes.
const providerDef = { ...providerSvc, GetProviderSchema: { ...providerSvc.GetProviderSchema, responseSerialize: (b) => b } };

const server = new grpc.Server();
server.addService(providerDef, provider);
server.addService(def['grpc.health.v1.Health'], { Check: ok({ status: 'SERVING' }) });
server.addService(def['plugin.GRPCController'], {
  Shutdown: (call, cb) => {
    cb(null, {});
    if (!listen) setTimeout(() => process.exit(0), 10);
  },
});

// ---------------------------------------------------------------- TLS (go-plugin AutoMTLS)
let creds = grpc.ServerCredentials.createInsecure();
let certDer = null;
const clientCert = listen ? null : process.env.PLUGIN_CLIENT_CERT;
if (clientCert) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfstub-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
        '-subj', '/O=boxoffice tfstub/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
      { stdio: ['ignore', 'ignore', 'pipe'] }
    );
    const key = fs.readFileSync(path.join(dir, 'key.pem'));
    const cert = fs.readFileSync(path.join(dir, 'cert.pem'));
    certDer = Buffer.from(cert.toString().replace(/-----[^-]+-----|\s+/g, ''), 'base64');
    creds = grpc.ServerCredentials.createSsl(Buffer.from(clientCert), [{ private_key: key, cert_chain: cert }], true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

server.bindAsync(listen || '127.0.0.1:0', creds, (err, port) => {
  if (err) {
    process.stderr.write(`tfstub: bind failed: ${err.message}\n`);
    process.exit(1);
  }
  if (listen) {
    process.stdout.write(`tfstub: serving plugin protocol 6 on ${listen} (pid ${process.pid})\n`);
    trace('ready');
    return;
  }
  // CORE-PROTOCOL|APP-PROTOCOL|NETWORK|ADDR|PROTOCOL|SERVER-CERT (base64, no padding)
  const certField = certDer ? certDer.toString('base64').replace(/=+$/, '') : '';
  process.stdout.write(`1|6|tcp|127.0.0.1:${port}|grpc|${certField}\n`);
  trace('ready');
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
