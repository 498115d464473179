import { AppError } from '@mmp/errors';
import { join } from 'node:path';
import { loadProgramFromDir, parseProgram, stringifyProgram, validateProgram } from './parse-program';

function detailsOf(source: string): readonly { path: string; message: string }[] {
  try {
    parseProgram(source);
  } catch (error) {
    if (error instanceof AppError) return error.details ?? [];
    throw error;
  }
  throw new Error('expected the program to be rejected');
}

describe('sources in a program', () => {
  it('loads the worked example: a json source whose mapping compiles', () => {
    const program = loadProgramFromDir(join(__dirname, '../../../../program/examples/orders-source'));
    expect(program.sources).toEqual([
      expect.objectContaining({
        topic: 'orders',
        format: 'json',
        mapping: expect.objectContaining({ customerId: 'customer.id' }),
      }),
    ]);
  });

  it('defaults the format to json and takes an avro source with its schema registry', () => {
    const program = parseProgram(`sources:
  - topic: shop.orders
    mapping: { type: "'order.placed'", occurredAt: at, anonymousId: visitor }
  - topic: shop.refunds-avro
    format: avro
    schemaRegistry: http://schema-registry:8081
    mapping: { type: "'order.refunded'", occurredAt: at, customerId: customer }
`);
    expect(program.sources?.map((s) => [s.topic, s.format, s.schemaRegistry])).toEqual([
      ['shop.orders', 'json', undefined],
      ['shop.refunds-avro', 'avro', 'http://schema-registry:8081'],
    ]);
  });

  it('names the line and column of an expression that is not JSONata, and the character in it', () => {
    expect(
      detailsOf(`sources:
  - topic: orders
    mapping:
      type: "'order.placed'"
      occurredAt: at
      customerId: $lowercase(customer.id
`),
    ).toEqual([
      {
        path: 'sources[0].mapping.customerId',
        message:
          'is not a valid JSONata expression: Expected ")" before end of expression at character 22 (program.yaml:6:19)',
        line: 6,
        column: 19,
      },
    ]);
  });

  it('refuses a mapping without a customer, an avro source without a registry, a platform topic and a repeated topic', () => {
    expect(
      detailsOf(`sources:
  - topic: orders
    mapping: { type: "'order.placed'", occurredAt: at }
  - topic: orders
    format: avro
    mapping: { type: "'order.placed'", occurredAt: at, customerId: id, total: amount }
  - topic: retail.events.v1
    schemaRegistry: http://registry:8081
    mapping: { type: "'order.placed'", occurredAt: at, customerId: id }
`).map((d) => `${d.path}: ${d.message}`),
    ).toEqual([
      'sources[0].mapping.customerId: customerId or anonymousId must be mapped (program.yaml:3:14)',
      // No schemaRegistry key to point at: the place is the source's own.
      'sources[1].schemaRegistry: is required for an avro source (program.yaml:4:5)',
      'sources[1].topic: duplicate source topic "orders": already used by sources[0] (program.yaml:4:12)',
      expect.stringMatching(/^sources\[1\]\.mapping\.total: .*\(program\.yaml:6:72\)$/),
      'sources[2].topic: must be a topic of your own, not one of the platform’s (program.yaml:7:12)',
      'sources[2].schemaRegistry: is only for avro sources: a json source has no schema registry (program.yaml:8:21)',
    ]);
  });

  it('keeps sources through GET and PUT /v1/program: as YAML and as JSON', () => {
    const program = loadProgramFromDir(join(__dirname, '../../../../program/examples/orders-source'));
    expect(parseProgram(stringifyProgram(program))).toEqual(program);
    expect(validateProgram(JSON.parse(JSON.stringify(program)))).toEqual(program);
  });
});
