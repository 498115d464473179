/**
 * Whether consent allows a message on a channel (SPEC section 5 `policies.consent`):
 * `opt-out` channels send unless the customer opted out; `opt-in` channels send only after an
 * explicit opt-in.
 */
export type ConsentModel = 'opt-in' | 'opt-out';
export type ConsentState = 'opted_in' | 'opted_out' | undefined;

export function consentAllows(model: ConsentModel, state: ConsentState): boolean {
  switch (model) {
    case 'opt-out':
      return state !== 'opted_out';
    case 'opt-in':
      return state === 'opted_in';
  }
}
