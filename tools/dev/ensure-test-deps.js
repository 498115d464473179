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

function installCommand() {
  if (process.platform === 'darwin') return 'brew install kcat';
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return `${asRoot ? '' : 'sudo '}apt-get install -y kcat`;
}

function main() {
  if ((process.env.KAFKA_BROKERS || '').trim() || isOnPath('kcat')) return 0;

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && isOnPath('apt-get')) {
    console.log(
      `${TAG} kcat is missing: the integration tests run their Kafka mock cluster in it. Installing it.`,
    );
    if (run('apt-get', ['update']) && run('apt-get', ['install', '-y', 'kcat']) && isOnPath('kcat')) {
      console.log(`${TAG} kcat installed.`);
      return 0;
    }
    console.error(
      `${TAG} installing kcat failed; install it yourself (apt-get install -y kcat) or set KAFKA_BROKERS=host:9092.`,
    );
    return 1;
  }

  console.error(`${TAG} kcat is missing: the integration tests run their Kafka mock cluster in it.`);
  console.error(`${TAG} Install it:  ${installCommand()}`);
  console.error(`${TAG} or point the tests at a running Kafka:  KAFKA_BROKERS=host:9092 npm test`);
  return 1;
}

process.exitCode = main();
