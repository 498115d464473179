import { createHash } from 'node:crypto';

/**
 * A milestone occurrence's id is a pure function of (milestone key, customer, occurrence), so
 * replays, redeliveries and a second instance all compute the same id, and storage keyed on it
 * fires each occurrence at most once.
 */
export function occurrenceIdOf(milestoneKey: string, customerId: string, occurrence: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([milestoneKey, customerId, occurrence]))
    .digest('hex');
  return `occ_${digest.slice(0, 32)}`;
}
