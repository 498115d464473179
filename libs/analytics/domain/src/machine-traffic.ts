/**
 * Opens and clicks that no person made: mail privacy proxies fetch every pixel, and corporate
 * link scanners follow every link, usually within seconds of delivery. They are recorded and
 * flagged, never dropped, so a data team can still see them, but they do not count as the
 * message's first open or click.
 */

export type TouchKind = 'open' | 'click';

export type MachineReason = 'user_agent' | 'too_soon_after_send';

/** Reading an email and acting on it takes longer than this; proxies and scanners do not. */
export const HUMAN_REACTION_MS = 10_000;

/**
 * User agents of prefetching proxies, security scanners and scripts. Apple Mail Privacy
 * Protection presents a plain browser agent, so it is only caught by the timing rule.
 */
const MACHINE_AGENTS: readonly RegExp[] = [
  /GoogleImageProxy/i,
  /YahooMailProxy/i,
  /Barracuda/i,
  /Mimecast/i,
  /Proofpoint/i,
  /\bbot\b|bot\/|crawler|spider|preview/i,
  /^(curl|wget|python-requests|python-urllib|go-http-client|java|okhttp|libwww-perl)/i,
  /HeadlessChrome/i,
];

export interface Touch {
  kind: TouchKind;
  userAgent: string | null;
  at: Date;
  /** When the message was handed to the provider; null when analytics has not seen it sent. */
  sentAt: Date | null;
}

/** Why a touch looks automated, or null when a person plausibly made it. */
export function machineReasonOf(touch: Touch): MachineReason | null {
  const agent = touch.userAgent?.trim() ?? '';
  if (agent === '' || MACHINE_AGENTS.some((pattern) => pattern.test(agent))) return 'user_agent';
  if (touch.sentAt && touch.at.getTime() - touch.sentAt.getTime() < HUMAN_REACTION_MS)
    return 'too_soon_after_send';
  return null;
}
