import { startKafkaMock } from './kafka-mock';

describe('startKafkaMock', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });

  it('fails fast with install instructions when kcat is not on PATH', async () => {
    process.env.PATH = '/nonexistent';

    await expect(startKafkaMock()).rejects.toThrow(
      'kcat not found on PATH: install it with `apt-get install -y kcat`',
    );
  });

  it('rejects a broker count that is not a positive integer', async () => {
    await expect(startKafkaMock({ brokers: 0 })).rejects.toThrow('brokers must be a positive integer, got 0');
  });
});
