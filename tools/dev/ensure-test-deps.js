#!/usr/bin/env node
// Run by `npm test` before anything else. Without KAFKA_BROKERS (and without Docker) the
// integration tests run Kafka as librdkafka's mock cluster inside `kcat`; make sure kcat is
// there, installing it where we may (root with apt-get), otherwise saying exactly what to run.
// Silent when nothing is needed.
'use strict';

const { spawnSync } = require('node:child_process');
const { accessSync, constants } = require('node:fs');
const path = require('node:path');

const TAG = '[ensure-test-deps]';

function isOnPath(command) {
  return (process.env.PATH || '').split(path.delimiter).some((directory) => {
    if (!directory) return false;
    try {
      accessSync(path.join(directory, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function run(command, args) {
  console.log(`${TAG} $ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0;
}

/** The command each Debian package is checked by, where the two are named differently. */
const COMMAND_OF_PACKAGE = { prometheus: 'promtool' };

/** The Debian packages the tests need that are not on this machine. */
function missingPackages() {
  const missing = [];
  // kcat runs the Kafka mock cluster, unless the tests are pointed at a running Kafka.
  if (!(process.env.KAFKA_BROKERS || '').trim() && !isOnPath('kcat')) missing.push('kcat');
  // chromium is the real browser the page tests (unsubscribe page, dashboard) drive.
  if (!isOnPath('chromium')) missing.push('chromium');
  // promtool (Debian's prometheus package) checks the /metrics page as Prometheus would read it.
  if (!isOnPath('promtool')) missing.push('prometheus');
  return missing;
}

function main() {
  const missing = missingPackages();
  if (missing.length === 0) return 0;
  const list = missing.join(' ');

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && isOnPath('apt-get')) {
    console.log(
      `${TAG} ${list} missing: the integration tests need ${missing.length > 1 ? 'them' : 'it'}. Installing.`,
    );
    if (
      run('apt-get', ['update']) &&
      run('apt-get', ['install', '-y', ...missing]) &&
      missing.every((name) => isOnPath(COMMAND_OF_PACKAGE[name] ?? name))
    ) {
      console.log(`${TAG} installed ${list}.`);
      return 0;
    }
    console.error(`${TAG} installing ${list} failed; install it yourself: apt-get install -y ${list}`);
    return 1;
  }

  console.error(`${TAG} ${list} missing: the integration tests need ${missing.length > 1 ? 'them' : 'it'}.`);
  console.error(
    `${TAG} Install:  ${process.platform === 'darwin' ? 'brew install' : 'sudo apt-get install -y'} ${list}`,
  );
  if (missing.includes('kcat')) {
    console.error(
      `${TAG} or point the tests at a running Kafka instead of kcat:  KAFKA_BROKERS=host:9092 npm test`,
    );
  }
  return 1;
}

process.exitCode = main();
