/**
 * Events older than `maxTriggerAgeHours` when they arrive still update the profile, but
 * nothing may trigger on them: a historical import must never blast customers.
 */
export function isTriggerable(occurredAt: Date, receivedAt: Date, maxTriggerAgeHours: number): boolean {
  return receivedAt.getTime() - occurredAt.getTime() <= maxTriggerAgeHours * 3_600_000;
}
