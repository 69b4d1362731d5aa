'use strict';
// Day-2 operations policy (issue 15), on the parsed HCL of terraform/ and, where
// the contract spans trees, on the files the instances get (ansible/, conf/nginx)
// and the commands the docs tell an operator to run. Each test names the item
// it guards; tests/terraform/mutate removes items one at a time to show these fail.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { TF_DIR, loadRoot, allModules, resources, resolve, refs } = require('./lib/hcl');

const REPO = path.resolve(__dirname, '..', '..');
const asList = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const mod = (root, name) => allModules(root).find((m) => m.name === name);
const read = (...p) => fs.readFileSync(path.join(...p), 'utf8');

// ---- 1. credentials ------------------------------------------------------------

test('1: the app logs in as its own user from its own secret; the master secret is for migrations only', async () => {
  const root = await loadRoot();
  const db = mod(root, 'database');
  const secret = db.resource.aws_secretsmanager_secret && db.resource.aws_secretsmanager_secret.app_user;
  assert.ok(secret, 'database: aws_secretsmanager_secret.app_user (the application user\'s credentials)');
  const version = db.resource.aws_secretsmanager_secret_version.app_user;
  assert.match(version.secret_string, /username\s*=\s*var\.app_username/, 'the secret holds the app user name');
  assert.equal(db.output.app_user_secret_arn.value, '${aws_secretsmanager_secret.app_user.arn}');
  // Kept out of automatic rotation: nothing rotates it behind the instances' back.
  for (const { mod: m, name, body } of resources(root, 'aws_secretsmanager_secret_rotation')) {
    const r = await refs(body.secret_id);
    assert.ok(!r.some((x) => x.includes('app_user')), `${m.name}: ${name} rotates the app user's secret automatically`);
  }
  assert.equal(root.module.compute.db_app_secret_arn, '${module.database.app_user_secret_arn}');
  assert.equal(root.module.compute.db_master_secret_arn, '${module.database.master_user_secret_arn}');
  const compute = mod(root, 'compute');
  assert.equal(compute.locals.bootstrap_vars.boxoffice_mysql_secret_arn, '${var.db_app_secret_arn}',
    'the daemon gets the app user\'s secret');
  assert.equal(compute.locals.bootstrap_vars.boxoffice_mysql_migrate_secret_arn, '${var.db_master_secret_arn}',
    'only the migration step gets the master secret');
});

test('1: the node has a refresh path for rotated credentials (file keys, timer, reload)', () => {
  const conf = read(REPO, 'ansible/roles/boxoffice/templates/boxoffice.conf.j2');
  assert.match(conf, /^mysql_password_file = /m, 'the daemon reads its DB password from a file (re-read on SIGHUP)');
  assert.match(conf, /^redis_password_file = /m, 'and its Redis password');
  assert.match(conf, /^admin_token_file = /m, 'and its admin token');
  assert.doesNotMatch(conf, /^(mysql_password|redis_password|admin_token) = "\{\{/m, 'no secret written inline in boxoffice.conf');
  const timer = read(REPO, 'ansible/roles/boxoffice/templates/boxoffice-credentials.timer.j2');
  assert.match(timer, /OnUnitActiveSec=/, 'the refresh runs periodically');
  const script = read(REPO, 'ansible/roles/boxoffice/templates/boxoffice-refresh-credentials.j2');
  assert.match(script, /systemctl reload boxoffice/, 'a changed secret reloads the daemon (HUP)');
  assert.match(script, /--check-config/, 'the new config is checked before the reload');
});

// ---- 2. safe first apply and rollouts ---------------------------------------------

test('2: the writer endpoint output waits for the writer instance', async () => {
  const root = await loadRoot();
  const out = mod(root, 'database').output.writer_endpoint;
  assert.ok(asList(out.depends_on).includes('${aws_rds_cluster_instance.writer}'),
    'output writer_endpoint must depend on aws_rds_cluster_instance.writer');
  assert.equal(root.module.compute.db_host, '${module.database.writer_endpoint}', 'the instances get that output');
});

test('2: instance refresh keeps 100 % healthy, launches up to 200 %, rolls back by itself', async () => {
  const root = await loadRoot();
  const [{ body }] = resources(root, 'aws_autoscaling_group');
  const refresh = asList(body.instance_refresh)[0];
  assert.ok(refresh, 'instance_refresh');
  assert.equal(refresh.strategy, 'Rolling');
  const p = refresh.preferences[0];
  assert.equal(p.min_healthy_percentage, 100, 'min_healthy_percentage 100: never below the capacity it had');
  assert.equal(p.max_healthy_percentage, 200, 'max_healthy_percentage 200: launch before terminating');
  assert.equal(p.auto_rollback, true, 'auto_rollback');
});

test('2: a launch hook holds new instances until the user data saw /api/ready through nginx', async () => {
  const root = await loadRoot();
  const compute = mod(root, 'compute');
  const [{ body }] = resources(root, 'aws_autoscaling_group');
  const hook = asList(body.initial_lifecycle_hook)[0];
  assert.ok(hook, 'initial_lifecycle_hook');
  assert.equal(hook.lifecycle_transition, 'autoscaling:EC2_INSTANCE_LAUNCHING');
  assert.equal(hook.default_result, 'ABANDON', 'a boot that never reports must not go into service');
  assert.equal(hook.name, '${local.launch_hook_name}');
  assert.match(compute.locals.ready_url, /^http:\/\/127\.0\.0\.1:\$\{var\.app_port\}\/api\/ready$/,
    'ready is checked through nginx on the app port');
  assert.equal(root.module.compute.app_port, '${local.app_port}');
  const tpl = read(compute.dir, 'templates', 'user-data.sh.tftpl');
  const body2 = tpl.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
  const ready = body2.indexOf('curl -fsS -o /dev/null --max-time 5 "$READY_URL"');
  const cont = body2.indexOf('complete_hook CONTINUE');
  const play = body2.indexOf('ansible-playbook');
  assert.ok(play > 0 && ready > play && cont > ready, 'playbook, then the /api/ready wait, then CONTINUE');
  assert.match(body2, /complete_hook ABANDON/, 'a failed boot abandons the launch');
  assert.match(body2, /--lifecycle-action-result "\$result"/);
  // the hook's name reaches the template
  assert.match(compute.raw['main.tf'], /launch_hook_name\s*=\s*local\.launch_hook_name/);
});

// ---- 3. observability --------------------------------------------------------------

test('3: every log group has a retention; the instances\' groups are the ones the agent ships', async () => {
  const root = await loadRoot();
  const groups = resources(root, 'aws_cloudwatch_log_group');
  assert.ok(groups.length >= 2, 'log groups are created in Terraform');
  for (const { mod: m, name, body } of groups) {
    const days = resolve(m, body.retention_in_days);
    assert.equal(typeof days, 'number', `${m.name}: aws_cloudwatch_log_group.${name} needs retention_in_days`);
    assert.ok(days > 0, `${m.name}: ${name} retention`);
  }
  const compute = mod(root, 'compute');
  const tfKeys = Object.keys(compute.locals.log_groups).sort();
  assert.deepEqual(tfKeys, ['bootstrap', 'journal', 'metrics', 'nginx_access', 'nginx_error']);
  assert.match(compute.locals.bootstrap_vars.cloudwatch_agent_log_groups, /aws_cloudwatch_log_group\.this/,
    'the agent gets the names from the resources (so the groups exist before the first boot)');
  const agent = read(REPO, 'ansible/roles/cloudwatch_agent/templates/amazon-cloudwatch-agent.json.j2');
  const agentKeys = [...new Set([...agent.matchAll(/cloudwatch_agent_log_groups\.(\w+)/g)].map((x) => x[1]))].sort();
  assert.deepEqual(agentKeys, tfKeys, 'the agent config ships exactly the log groups Terraform creates');
});

test('3: the slow query log is on wherever slowquery is exported', async () => {
  const root = await loadRoot();
  const db = mod(root, 'database');
  const [{ body: cluster }] = resources(root, 'aws_rds_cluster');
  const exported = resolve(db, cluster.enabled_cloudwatch_logs_exports);
  const list = Array.isArray(exported) ? exported : db.locals.exported_logs;
  assert.ok(list.includes('slowquery'), 'slowquery is exported');
  const params = [...resources(root, 'aws_rds_cluster_parameter_group'), ...resources(root, 'aws_db_parameter_group')]
    .flatMap(({ body }) => asList(body.parameter));
  const get = (n) => (params.find((p) => p.name === n) || {}).value;
  assert.equal(get('slow_query_log'), '1', 'slow_query_log = 1');
  assert.equal(get('log_output'), 'FILE', 'log_output = FILE (what RDS exports)');
});

test('3: alarms on healthy hosts below the minimum, the 5xx rate, and the app\'s own metrics', async () => {
  const root = await loadRoot();
  const mon = mod(root, 'monitoring');
  const alarms = resources(root, 'aws_cloudwatch_metric_alarm');
  const by = (ns, metric) => alarms.filter(({ body }) => body.namespace === ns && body.metric_name === metric);

  const [healthy] = by('AWS/ApplicationELB', 'HealthyHostCount');
  assert.ok(healthy, 'alarm on HealthyHostCount');
  assert.equal(healthy.body.comparison_operator, 'LessThanThreshold');
  assert.equal(healthy.body.threshold, '${var.min_healthy_hosts}');
  assert.equal(root.module.monitoring.min_healthy_hosts, '${var.asg_min_size}', 'the threshold is the ASG minimum');

  const rate = alarms.find(({ body }) => asList(body.metric_query).length > 0 &&
    asList(body.metric_query).some((q) => asList(q.metric).some((m) => m.metric_name === 'RequestCount')));
  assert.ok(rate, 'an alarm on the 5xx rate (metric math over RequestCount)');
  const names = asList(rate.body.metric_query).flatMap((q) => asList(q.metric).map((m) => m.metric_name)).sort();
  assert.deepEqual(names, ['HTTPCode_ELB_5XX_Count', 'HTTPCode_Target_5XX_Count', 'RequestCount']);
  const expr = asList(rate.body.metric_query).find((q) => q.return_data === true);
  assert.match(expr.expression, /\/\s*requests/, 'the rate divides by the request count');

  for (const metric of ['boxoffice_db_errors_total', 'boxoffice_gate_compensations_total']) {
    const found = alarms.filter(({ body }) => body.namespace === '${var.metrics_namespace}' && body.metric_name === metric);
    assert.equal(found.length, 1, `alarm on the app's ${metric}`);
    assert.match(JSON.stringify(found[0].body.dimensions), /local\.app_dims/);
  }
  assert.equal(mon.locals.app_dims.Stack, '${var.name}', 'the app metrics are per stack');
  // The agent publishes under the same namespace and dimension.
  const agent = read(REPO, 'ansible/roles/cloudwatch_agent/templates/amazon-cloudwatch-agent.json.j2') +
    read(REPO, 'ansible/roles/cloudwatch_agent/templates/prometheus.yaml.j2') +
    read(REPO, 'ansible/roles/cloudwatch_agent/defaults/main.yml');
  assert.match(agent, /"dimensions": \[\["Stack"\]\]/, 'the agent publishes the metrics with the Stack dimension');
  assert.match(agent, /^\s+Stack: /m, 'the scrape labels the metrics Stack=<name>');
  assert.match(agent, /boxoffice_db_errors_total/);
  assert.match(agent, /boxoffice_gate_compensations_total/);
});

test('3: RDS and ElastiCache events reach the alarm topic', async () => {
  const root = await loadRoot();
  const subs = resources(root, 'aws_db_event_subscription');
  const types = subs.map(({ body }) => body.source_type).sort();
  assert.deepEqual(types, ['db-cluster', 'db-instance']);
  for (const { body } of subs) {
    assert.equal(body.sns_topic, '${aws_sns_topic.this.arn}');
    assert.ok(asList(body.event_categories).includes('failover'), 'failover events');
  }
  const [{ body: rg }] = resources(root, 'aws_elasticache_replication_group');
  assert.equal(rg.notification_topic_arn, '${var.notification_topic_arn}');
  assert.equal(root.module.cache.notification_topic_arn, '${module.monitoring.sns_topic_arn}');
  // The topic is KMS-encrypted: the key must let RDS events use it.
  const [{ body: kms }] = resources(root, 'aws_iam_policy_document', 'data').filter(({ name }) => name === 'sns_kms');
  const services = asList(kms.statement).flatMap((s) => asList(s.principals)).flatMap((p) => asList(p.identifiers));
  assert.ok(services.includes('events.rds.amazonaws.com'), 'the SNS key policy admits events.rds.amazonaws.com');
});

// ---- 4. edge --------------------------------------------------------------------

test('4: WAF with a rate-based rule and the AWS common rules, on by default in production', async () => {
  const root = await loadRoot();
  const alb = mod(root, 'alb');
  const [acl] = resources(root, 'aws_wafv2_web_acl');
  assert.ok(acl, 'aws_wafv2_web_acl');
  assert.equal(acl.body.scope, 'REGIONAL');
  assert.equal(acl.body.count, '${var.create_waf ? 1 : 0}');
  const rules = alb.locals.waf_rules;
  assert.ok(rules.some((r) => r.Statement.RateBasedStatement && r.Action && r.Action.Block), 'a blocking rate-based rule');
  assert.ok(rules.some((r) => r.Statement.ManagedRuleGroupStatement &&
    r.Statement.ManagedRuleGroupStatement.Name === 'AWSManagedRulesCommonRuleSet'), 'the AWS managed common rule set');
  const [assoc] = resources(root, 'aws_wafv2_web_acl_association');
  assert.equal(assoc.body.resource_arn, '${aws_lb.this.arn}');
  assert.equal(root.module.alb.create_waf, '${local.enable_waf}');
  assert.match(root.locals.enable_waf, /local\.is_production/, 'default follows the environment');
  assert.match(root.locals.is_production, /"prod"/);
});

test('4: nginx keeps client connections longer than the ALB idle timeout', async () => {
  const root = await loadRoot();
  const alb = mod(root, 'alb');
  const idle = resolve(alb, alb.resource.aws_lb.this.idle_timeout);
  assert.equal(typeof idle, 'number', 'ALB idle_timeout resolves');
  const site = read(REPO, 'conf/nginx/boxoffice-site.conf');
  const server = site.slice(site.indexOf('server {'));
  const m = /^\s*keepalive_timeout\s+(\d+)s?\s*;/m.exec(server);
  assert.ok(m, 'the server block sets keepalive_timeout');
  assert.ok(Number(m[1]) > idle, `nginx keepalive_timeout ${m[1]}s must exceed the ALB idle timeout ${idle}s`);
  const role = read(REPO, 'ansible/roles/nginx/templates/boxoffice-site.conf.j2');
  assert.ok(role.includes(m[0].trim()), 'the Ansible site template carries the same keepalive_timeout');
});

test('4: HTTPS is required in production (certificate_arn validation)', async () => {
  const root = await loadRoot();
  const v = root.variable.certificate_arn;
  assert.ok(asList(v.validation).some((x) => /var\.certificate_arn != null/.test(x.condition) && /var\.environment/.test(x.condition)),
    'a validation that refuses a production environment without a certificate');
  const tf = root.files['versions.tf'].terraform[0];
  assert.match(tf.required_version, />= 1\.(9|1[0-9])/, 'cross-variable validation needs Terraform >= 1.9');
  const example = read(TF_DIR, 'terraform.tfvars.example');
  assert.match(example, /^certificate_arn\s*=/m, 'the production example sets a certificate');
});

// ---- 5. one deploy path; the docs' commands are real ----------------------------------

test('5: one deploy path: no in-place deploy playbook; the docs name real variables and outputs', async () => {
  const root = await loadRoot();
  assert.ok(!fs.existsSync(path.join(REPO, 'ansible', 'deploy.yml')),
    'ansible/deploy.yml must not exist: releases roll through the launch template and the instance refresh');
  let commands = 0;
  for (const doc of ['docs/runbook.md', 'docs/deploy.md']) {
    const text = read(REPO, doc);
    assert.doesNotMatch(text, /deploy\.yml/, `${doc} still points to deploy.yml`);
    for (const line of text.split('\n').filter((l) => /^\s*(\$ )?terraform /.test(l) || /`terraform [^`]+`/.test(l))) {
      for (const m of line.matchAll(/-var[ =]'?([a-z_]+)=/g)) {
        commands++;
        assert.ok(m[1] in root.variable, `${doc}: "${line.trim()}" sets undeclared variable ${m[1]}`);
      }
      for (const m of line.matchAll(/terraform(?: -chdir=\S+)? output -raw ([a-z_]+)/g)) {
        commands++;
        assert.ok(m[1] in root.output, `${doc}: "${line.trim()}" reads undeclared output ${m[1]}`);
      }
    }
  }
  assert.ok(commands >= 4, `expected the docs to show terraform commands with -var and outputs (found ${commands})`);
});

// ---- 7. restore and point-in-time recovery are real Terraform paths ---------------------

test('7: a snapshot restore and a point-in-time recovery are root variables wired to the cluster', async () => {
  const root = await loadRoot();
  const db = mod(root, 'database');
  const [{ body }] = resources(root, 'aws_rds_cluster');
  assert.equal(body.snapshot_identifier, '${var.snapshot_identifier}');
  const pitr = asList(body.dynamic).find((d) => d.restore_to_point_in_time);
  assert.ok(pitr, 'a dynamic restore_to_point_in_time block');
  assert.equal(root.module.database.snapshot_identifier, '${var.db_snapshot_identifier}');
  assert.equal(root.module.database.restore_to_point_in_time, '${var.db_restore_to_point_in_time}');
  assert.match(body.final_snapshot_identifier, /var\.final_snapshot_suffix/, 'a replacement can leave a uniquely named final snapshot');
  assert.ok(db.variable.restore_to_point_in_time.validation, 'the restore time is validated');
  const deploy = read(REPO, 'docs/deploy.md');
  for (const v of ['db_snapshot_identifier', 'db_restore_to_point_in_time', 'db_final_snapshot_suffix']) {
    assert.match(deploy, new RegExp(v), `docs/deploy.md shows ${v}`);
  }
});
