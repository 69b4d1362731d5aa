'use strict';
// Security and operations policy on the parsed HCL of terraform/ (the offline
// stand-in for tfsec/checkov, which cannot be installed here). Values are
// resolved through module calls back to the root's defaults, so a port or a
// size set at the root is checked where it lands.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { loadRoot, allModules, resources, resolve, refs, UNRESOLVED } = require('./lib/hcl');

const INTERNET = ['0.0.0.0/0', '::/0'];
const sgName = (expr) => {
  const m = /^\$\{aws_security_group\.(\w+)\.id\}$/.exec(expr || '');
  return m ? m[1] : null;
};
const asList = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

// Every ingress/egress rule in every module, normalised:
// {mod, where, direction, sg, from, to, proto, cidrs:[...], sourceSg}
async function allRules() {
  const root = await loadRoot();
  const out = [];
  for (const direction of ['ingress', 'egress']) {
    for (const { mod, name, body } of resources(root, `aws_vpc_security_group_${direction}_rule`)) {
      out.push({
        mod, where: `${mod.name}: aws_vpc_security_group_${direction}_rule.${name}`, direction,
        sg: sgName(body.security_group_id),
        from: resolve(mod, body.from_port), to: resolve(mod, body.to_port), proto: resolve(mod, body.ip_protocol),
        cidrs: [body.cidr_ipv4, body.cidr_ipv6].filter((c) => c !== undefined).map((c) => resolve(mod, c)),
        sourceSg: sgName(body.referenced_security_group_id),
        prefixList: body.prefix_list_id,
      });
    }
  }
  for (const { mod, name, body } of resources(root, 'aws_security_group_rule')) {
    out.push({
      mod, where: `${mod.name}: aws_security_group_rule.${name}`, direction: body.type,
      sg: sgName(body.security_group_id),
      from: resolve(mod, body.from_port), to: resolve(mod, body.to_port), proto: resolve(mod, body.protocol),
      cidrs: [...asList(body.cidr_blocks), ...asList(body.ipv6_cidr_blocks)].map((c) => resolve(mod, c)),
      sourceSg: sgName(body.source_security_group_id),
    });
  }
  for (const { mod, name, body } of resources(root, 'aws_security_group')) {
    for (const direction of ['ingress', 'egress']) {
      for (const r of asList(body[direction])) {
        out.push({
          mod, where: `${mod.name}: aws_security_group.${name} inline ${direction}`, direction, sg: name,
          from: resolve(mod, r.from_port), to: resolve(mod, r.to_port), proto: resolve(mod, r.protocol),
          cidrs: [...asList(r.cidr_blocks), ...asList(r.ipv6_cidr_blocks)].map((c) => resolve(mod, c)),
          sourceSg: asList(r.security_groups).map(sgName)[0] || null,
        });
      }
    }
  }
  return out;
}

const coversPort = (r, port) => r.proto === '-1' || r.proto === 'all' || r.proto === -1 ||
  (typeof r.from === 'number' && typeof r.to === 'number' && r.from <= port && port <= r.to) ||
  r.from === UNRESOLVED || r.to === UNRESOLVED;
const isInternet = (c) => c === UNRESOLVED || INTERNET.includes(c);

test('0.0.0.0/0 ingress exists only on the ALB, only on 80 and 443', async () => {
  const rules = await allRules();
  const open = rules.filter((r) => r.direction === 'ingress' && r.cidrs.some(isInternet));
  assert.ok(open.length >= 2, 'expected the ALB 80/443 rules');
  for (const r of open) {
    assert.equal(r.sg, 'alb', `${r.where}: internet ingress on a non-ALB security group`);
    assert.ok(r.from === r.to && [80, 443].includes(r.from), `${r.where}: internet ingress on port ${String(r.from)}-${String(r.to)}`);
    assert.equal(r.proto, 'tcp', `${r.where}: internet ingress must be tcp`);
  }
  const ports = open.map((r) => r.from).sort();
  assert.deepEqual(ports, [443, 80].sort(), 'the ALB takes exactly 80 and 443 from the internet');
});

test('non-ALB security groups take no CIDR ingress at all, only group references', async () => {
  const rules = await allRules();
  for (const r of rules.filter((x) => x.direction === 'ingress' && x.sg !== 'alb')) {
    assert.equal(r.cidrs.length, 0, `${r.where}: CIDR ingress on ${r.sg}`);
    assert.ok(r.sourceSg, `${r.where}: ingress must come from a security group`);
  }
});

test('the DB (3306) and Redis (6379) ports are reachable only from the app security group', async () => {
  const rules = await allRules();
  for (const port of [3306, 6379]) {
    const hits = rules.filter((r) => r.direction === 'ingress' && coversPort(r, port));
    assert.ok(hits.length >= 1, `no ingress rule for ${port}`);
    for (const r of hits) {
      assert.equal(r.cidrs.length, 0, `${r.where}: ${port} open to a CIDR (${r.cidrs.map(String)})`);
      assert.equal(r.sourceSg, 'app', `${r.where}: ${port} must be reachable only from the app security group`);
      assert.ok(r.from === port && r.to === port, `${r.where}: must open exactly ${port}`);
    }
  }
  const db = rules.filter((r) => r.direction === 'ingress' && r.sg === 'db');
  const redis = rules.filter((r) => r.direction === 'ingress' && r.sg === 'redis');
  assert.deepEqual(db.map((r) => r.from), [3306], 'the db group opens 3306 only');
  assert.deepEqual(redis.map((r) => r.from), [6379], 'the redis group opens 6379 only');
});

test('the app port (8080) is open only from the ALB group; no SSH anywhere', async () => {
  const rules = await allRules();
  const app = rules.filter((r) => r.direction === 'ingress' && r.sg === 'app');
  assert.equal(app.length, 1, 'the app group has exactly one ingress rule');
  assert.equal(app[0].sourceSg, 'alb');
  assert.ok(app[0].from === 8080 && app[0].to === 8080, 'app ingress is the app port 8080');
  for (const r of rules.filter((x) => x.direction === 'ingress')) {
    assert.ok(!coversPort(r, 22), `${r.where}: port 22 must stay closed (use Session Manager)`);
  }
});

test('egress is narrow: internet egress only from the app group on 80/443; data groups have none', async () => {
  const rules = await allRules();
  for (const r of rules.filter((x) => x.direction === 'egress')) {
    assert.ok(!(r.proto === '-1' || r.proto === -1 || r.proto === 'all'), `${r.where}: all-protocol egress`);
    if (r.cidrs.some(isInternet)) {
      assert.equal(r.sg, 'app', `${r.where}: internet egress on ${r.sg}`);
      assert.ok(r.from === r.to && [80, 443].includes(r.from), `${r.where}: internet egress on ${String(r.from)}`);
    }
    assert.ok(!['db', 'redis'].includes(r.sg), `${r.where}: the data stores need no egress`);
  }
  const alb = rules.filter((r) => r.direction === 'egress' && r.sg === 'alb');
  assert.ok(alb.length === 1 && alb[0].sourceSg === 'app' && alb[0].from === 8080, 'ALB egress goes to the app port only');
});

test('encryption is on everywhere: Aurora, Redis at rest and in transit, EBS, SNS', async () => {
  const root = await loadRoot();
  const clusters = resources(root, 'aws_rds_cluster');
  assert.equal(clusters.length, 1);
  for (const { mod, body } of clusters) {
    assert.equal(resolve(mod, body.storage_encrypted), true, 'Aurora storage_encrypted');
  }
  const rgs = resources(root, 'aws_elasticache_replication_group');
  assert.equal(rgs.length, 1);
  for (const { mod, body } of rgs) {
    assert.equal(resolve(mod, body.at_rest_encryption_enabled), true, 'Redis at_rest_encryption_enabled');
    assert.equal(resolve(mod, body.transit_encryption_enabled), true, 'Redis transit_encryption_enabled');
    assert.ok(body.auth_token, 'Redis needs an auth token');
  }
  const lts = resources(root, 'aws_launch_template');
  assert.equal(lts.length, 1);
  for (const { mod, body } of lts) {
    const bdms = asList(body.block_device_mappings);
    assert.ok(bdms.length >= 1, 'the launch template must declare its root volume');
    for (const b of bdms) for (const e of asList(b.ebs)) assert.equal(resolve(mod, e.encrypted), true, 'EBS encrypted');
  }
  for (const { mod, body } of resources(root, 'aws_sns_topic')) {
    assert.ok(body.kms_master_key_id, `${mod.name}: SNS topic must be encrypted`);
  }
  for (const { mod, body } of resources(root, 'aws_kms_key')) {
    assert.equal(resolve(mod, body.enable_key_rotation), true, `${mod.name}: KMS key rotation`);
  }
});

test('no credential is ever written in the configuration', async () => {
  const root = await loadRoot();
  for (const { mod, body } of resources(root, 'aws_rds_cluster')) {
    assert.equal(resolve(mod, body.manage_master_user_password), true, 'manage_master_user_password');
    assert.ok(!('master_password' in body), 'no master_password');
  }
  for (const mod of allModules(root)) {
    for (const [f, text] of Object.entries(mod.raw)) {
      assert.ok(!/(password|secret_key|auth_token)\s*=\s*"[^"$]+"/i.test(text), `${mod.name}/${f}: literal credential`);
    }
  }
  const tpl = fs.readFileSync(path.join(root.dir, 'modules', 'compute', 'templates', 'user-data.sh.tftpl'), 'utf8');
  assert.ok(!/password/i.test(tpl), 'the user data template must not mention a password');
});

test('every CloudWatch alarm notifies the SNS topic', async () => {
  const root = await loadRoot();
  const alarms = resources(root, 'aws_cloudwatch_metric_alarm');
  assert.ok(alarms.length >= 12, `expected the full alarm set, found ${alarms.length}`);
  for (const { mod, name, body } of alarms) {
    const actions = body.alarm_actions;
    assert.ok(actions, `${mod.name}: alarm ${name} has no alarm_actions`);
    let expr = actions;
    const local = /^\$\{local\.(\w+)\}$/.exec(actions || '');
    if (local) expr = mod.locals[local[1]];
    const r = await refs(expr);
    assert.ok(r.some((x) => /^aws_sns_topic\.\w+\.arn$/.test(x)), `${mod.name}: alarm ${name} must notify an SNS topic`);
  }
  const metrics = alarms.map(({ body }) => `${body.namespace}:${body.metric_name}`);
  for (const m of [
    'AWS/EC2:CPUUtilization', 'AWS/ApplicationELB:HTTPCode_ELB_5XX_Count', 'AWS/ApplicationELB:TargetResponseTime',
    'AWS/ApplicationELB:UnHealthyHostCount', 'AWS/RDS:CPUUtilization', 'AWS/RDS:DatabaseConnections',
    'AWS/RDS:AuroraReplicaLagMaximum', 'AWS/RDS:FreeableMemory', 'AWS/ElastiCache:DatabaseMemoryUsagePercentage',
    'AWS/ElastiCache:Evictions', 'AWS/ElastiCache:EngineCPUUtilization',
  ]) assert.ok(metrics.includes(m), `missing alarm on ${m}`);
});

test('the Auto Scaling group is min 2, max 20, ELB health checked, in the private app subnets', async () => {
  const root = await loadRoot();
  const asgs = resources(root, 'aws_autoscaling_group');
  assert.equal(asgs.length, 1);
  const { mod, body } = asgs[0];
  assert.equal(resolve(mod, body.min_size), 2, 'min_size resolves to 2');
  assert.equal(resolve(mod, body.max_size), 20, 'max_size resolves to 20');
  assert.equal(body.health_check_type, 'ELB');
  assert.ok(body.instance_refresh, 'instance_refresh on launch template change');
  assert.equal(mod.call.subnet_ids, '${module.network.private_app_subnet_ids}', 'the ASG runs in the private app subnets');
  const policies = resources(root, 'aws_autoscaling_policy').map(({ body: b }) =>
    b.target_tracking_configuration[0].predefined_metric_specification[0].predefined_metric_type);
  assert.deepEqual(policies.sort(), ['ALBRequestCountPerTarget', 'ASGAverageCPUUtilization']);
  const cpu = resources(root, 'aws_autoscaling_policy').find(({ body: b }) =>
    b.target_tracking_configuration[0].predefined_metric_specification[0].predefined_metric_type === 'ASGAverageCPUUtilization');
  assert.equal(resolve(cpu.mod, cpu.body.target_tracking_configuration[0].target_value), 70);
});

test('instances: IMDSv2 required, no public IP, least-privilege IAM', async () => {
  const root = await loadRoot();
  const [{ mod, body }] = resources(root, 'aws_launch_template');
  assert.equal(body.metadata_options[0].http_tokens, 'required', 'IMDSv2');
  for (const ni of asList(body.network_interfaces)) assert.notEqual(resolve(mod, ni.associate_public_ip_address), true);
  const docs = resources(root, 'aws_iam_policy_document', 'data');
  for (const { mod: m, name, body: d } of docs) {
    for (const st of asList(d.statement)) {
      for (const a of asList(st.actions)) assert.ok(!/\*$/.test(a) || (name === 'sns_kms' && a.startsWith('kms:')), `${m.name}: ${name} grants wildcard action ${a}`);
      if (asList(st.actions).some((a) => a.startsWith('secretsmanager:'))) {
        assert.deepEqual(st.actions, ['secretsmanager:GetSecretValue']);
        assert.notEqual(st.resources, '*', 'secrets must be named by ARN');
        assert.equal(st.resources, '${local.secret_arns}');
      }
      if (asList(st.actions).some((a) => a.startsWith('autoscaling:'))) {
        assert.deepEqual(st.actions, ['autoscaling:CompleteLifecycleAction'], 'the instances may only complete their launch hook');
        assert.deepEqual(st.resources, ['${local.asg_arn}'], 'on their own group only');
      }
      if (asList(st.actions).some((a) => a.startsWith('s3:'))) {
        assert.deepEqual(st.actions, ['s3:GetObject']);
        for (const r of asList(st.resources)) assert.match(r, /:s3:::\$\{var\.artifact_bucket_name\}\/releases\/\*$/);
      }
    }
  }
  const attached = resources(root, 'aws_iam_role_policy_attachment').map(({ body: b }) => b.policy_arn.split('/').pop()).sort();
  assert.deepEqual(attached, ['AmazonSSMManagedInstanceCore', 'CloudWatchAgentServerPolicy']);
  const compute = allModules(root).find((x) => x.name === 'compute');
  assert.equal(compute.locals.secret_arns.length, 5, 'exactly the app DB user, the DB master (migrations), Redis, admin-token and admission secrets');
});

test('Aurora: MySQL 3, writer and reader in different AZs, 7-day backups, protected, max_connections from the fleet', async () => {
  const root = await loadRoot();
  const [{ mod, body }] = resources(root, 'aws_rds_cluster');
  assert.equal(body.engine, 'aurora-mysql');
  assert.match(resolve(mod, body.engine_version), /^8\.0\.mysql_aurora\.3\./);
  assert.equal(resolve(mod, body.backup_retention_period), 7);
  assert.equal(resolve(mod, body.deletion_protection), true);
  assert.equal(resolve(mod, body.skip_final_snapshot), false);
  const inst = resources(root, 'aws_rds_cluster_instance');
  assert.equal(inst.length, 2, 'one writer and one reader');
  assert.deepEqual(inst.map(({ body: b }) => b.availability_zone).sort(), ['${var.azs[0]}', '${var.azs[1]}']);
  for (const { body: b } of inst) assert.equal(b.performance_insights_enabled, true);
  // Aurora MySQL takes max_connections at the instance level: the DB parameter
  // group both instances use.
  const [{ body: pg }] = resources(root, 'aws_db_parameter_group');
  const mc = asList(pg.parameter).find((p) => p.name === 'max_connections');
  assert.equal(mc.value, '${tostring(local.max_connections)}');
  for (const { body: b } of inst) assert.equal(b.db_parameter_group_name, '${aws_db_parameter_group.this.name}');
  const [{ body: cpg }] = resources(root, 'aws_rds_cluster_parameter_group');
  assert.equal(body.db_cluster_parameter_group_name, '${aws_rds_cluster_parameter_group.this.name}');
  assert.equal(cpg.family, 'aurora-mysql8.0');
  assert.match(mod.raw['main.tf'], /20 x 64\s+= 1280/, 'the max_connections arithmetic is shown in a comment');
});

test('Redis: 7.x, primary + replica, Multi-AZ failover, volatile-lru with the reason', async () => {
  const root = await loadRoot();
  const [{ mod, body }] = resources(root, 'aws_elasticache_replication_group');
  assert.match(resolve(mod, body.engine_version), /^7\./);
  assert.equal(body.num_cache_clusters, 2);
  assert.equal(body.automatic_failover_enabled, true);
  assert.equal(body.multi_az_enabled, true);
  const [{ body: pg }] = resources(root, 'aws_elasticache_parameter_group');
  const p = asList(pg.parameter).find((x) => x.name === 'maxmemory-policy');
  assert.equal(p.value, 'volatile-lru');
  assert.match(mod.raw['main.tf'], /allkeys-lru could/, 'the eviction policy choice is explained');
});

test('user data passes the contract extra vars and the ALB checks /api/health on 8080', async () => {
  const root = await loadRoot();
  const compute = allModules(root).find((x) => x.name === 'compute');
  const keys = Object.keys(compute.locals.bootstrap_vars).sort();
  assert.deepEqual(keys, [
    'boxoffice_admin_token_secret_arn', 'boxoffice_admission_secret_arn', 'boxoffice_auth_mode', 'boxoffice_aws_region',
    'boxoffice_jwt_algorithm', 'boxoffice_jwt_audience', 'boxoffice_jwt_issuer', 'boxoffice_jwt_public_key',
    'boxoffice_mysql_database', 'boxoffice_mysql_host',
    'boxoffice_mysql_migrate_secret_arn', 'boxoffice_mysql_port', 'boxoffice_mysql_secret_arn', 'boxoffice_redis_host',
    'boxoffice_redis_port', 'boxoffice_redis_secret_arn', 'boxoffice_redis_tls', 'boxoffice_release_tarball',
    'boxoffice_release_version', 'boxoffice_workers', 'cloudwatch_agent_enabled', 'cloudwatch_agent_log_groups',
    'cloudwatch_agent_metrics_namespace', 'cloudwatch_agent_stack_name',
  ]);
  const [{ mod, body: tg }] = resources(root, 'aws_lb_target_group');
  assert.equal(resolve(mod, tg.port), 8080);
  assert.equal(resolve(mod, tg.health_check[0].path), '/api/health');
  const delay = resolve(mod, tg.deregistration_delay);
  assert.ok(delay > 30 && delay <= 60, `deregistration delay ${delay} must exceed the 30 s graceful stop`);
});
