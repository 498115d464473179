import { checkSnsMessage, snsPublicKey, verifySnsSignature } from '@mmp/channel-ses';
import { AppConfig } from '@mmp/config';
import { AppError, describeError } from '@mmp/errors';
import { Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';

/** Certificates kept at most: SNS rotates them rarely, and only trusted URLs are ever fetched. */
const MAX_CACHED_CERTIFICATES = 50;
const FETCH_TIMEOUT_MS = 5_000;

/**
 * Verifies that an SNS message posted to `POST /v1/webhooks/ses` was signed by SNS: the
 * certificate comes only from a URL matching SNS_CERT_URL_PATTERN (SNS's own https hosts by
 * default) and is cached by URL. Anything unsigned, badly signed or naming another certificate
 * URL is `403 forbidden` before it is read, so it changes nothing.
 */
@Injectable()
export class SnsVerifier {
  private readonly certificates = new Map<string, Promise<KeyObject>>();

  constructor(private readonly config: AppConfig) {}

  /** Resolves with the certificate URL the message was signed with; throws `forbidden` otherwise. */
  async verify(rawBody: string): Promise<{ certUrl: string }> {
    let message: unknown;
    try {
      message = JSON.parse(rawBody);
    } catch {
      throw new AppError('forbidden', 'webhook rejected: not a signed SNS message (the body is not JSON)');
    }
    const check = checkSnsMessage(message, this.config.channels.email.snsCertUrlPattern);
    if (!check.ok) throw new AppError('forbidden', `webhook rejected: ${check.reason}`);
    const key = await this.certificate(check.certUrl);
    if (!verifySnsSignature(check, key))
      throw new AppError('forbidden', 'webhook rejected: the SNS signature does not match');
    return { certUrl: check.certUrl };
  }

  /**
   * Confirms a verified SubscriptionConfirmation by visiting its SubscribeURL, which SNS signed,
   * when it is on the host that served the (trusted) signing certificate: SNS's own. Answers
   * false, visiting nothing, for a URL elsewhere. A failed visit is 503, so SNS sends it again.
   */
  async confirmSubscription(subscribeUrl: string, certUrl: string): Promise<boolean> {
    let url: URL;
    try {
      url = new URL(subscribeUrl);
    } catch {
      return false;
    }
    if (url.origin !== new URL(certUrl).origin) return false;
    try {
      await fetchChecked(url.toString());
      return true;
    } catch (error) {
      throw AppError.unavailable(
        `the SNS subscription could not be confirmed at ${url.origin}: ${describeError(error)}`,
      );
    }
  }

  private certificate(url: string): Promise<KeyObject> {
    const cached = this.certificates.get(url);
    if (cached) return cached;
    const loading = fetchKey(url);
    if (this.certificates.size >= MAX_CACHED_CERTIFICATES) this.certificates.clear();
    this.certificates.set(url, loading);
    // A failed fetch is not remembered: SNS retries the message, and the next try fetches again.
    loading.catch(() => this.certificates.delete(url));
    return loading;
  }
}

async function fetchKey(url: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await fetchChecked(url);
  } catch (error) {
    // Not the sender's fault as far as we know: 503, so SNS delivers the message again later.
    throw AppError.unavailable(
      `the SNS signing certificate ${url} could not be fetched: ${describeError(error)}`,
    );
  }
  try {
    return snsPublicKey(pem);
  } catch {
    throw new AppError('forbidden', `webhook rejected: ${url} holds no certificate`);
  }
}

/** GET without following redirects (only the URL that was checked is ever read), within FETCH_TIMEOUT_MS. */
async function fetchChecked(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.text();
}
