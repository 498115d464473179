import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** A set of secret keys (API keys, Segment write keys) a caller's key is checked against. */
export class KnownKeys {
  // Digests have one length, which timingSafeEqual needs, whatever length a caller sends.
  private readonly digests: readonly Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  /** Compares against every key without stopping early, so timing tells nothing about which key nearly matched. */
  has(key: string): boolean {
    const candidate = digest(key);
    let known = false;
    for (const keyDigest of this.digests) {
      known = timingSafeEqual(keyDigest, candidate) || known;
    }
    return known;
  }
}
