import { Parser } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ASYNCAPI_PATH, asyncApiYaml } from './asyncapi-document';

const committedPath = resolve(__dirname, '../../..', ASYNCAPI_PATH);

describe('the AsyncAPI document', () => {
  it('is what the contracts generate (run `npm run asyncapi` after changing a schema)', async () => {
    expect(readFileSync(committedPath, 'utf8')).toBe(await asyncApiYaml());
  });

  it('is a valid AsyncAPI 3 document, with no error diagnostics', async () => {
    const { document, diagnostics } = await new Parser().parse(readFileSync(committedPath, 'utf8'));
    // Severity 0 is an error in the parser's diagnostics (spectral's DiagnosticSeverity).
    expect(diagnostics.filter((diagnostic) => Number(diagnostic.severity) === 0)).toEqual([]);
    expect(
      document
        ?.channels()
        .all()
        .map((channel) => channel.address()),
    ).toEqual(
      expect.arrayContaining([
        'messages.events.v1',
        'analytics.conversions.v1',
        'analytics.journey-metrics.v1',
      ]),
    );
  });
});
