import { RetailEventV1, validate, type ValidationIssue } from '@mmp/contracts';

/**
 * The Segment HTTP Tracking API's calls as our events (README, "Segment-compatible API"). Pure:
 * the controller hands each call here and ingests what comes back through the one ingest path.
 * A call that cannot be mapped, or whose mapping fails `RetailEventV1`, is refused with issues
 * whose paths name the Segment field (`properties.order_id`), not ours (`properties.orderId`).
 */

export const SEGMENT_CALL_TYPES = ['identify', 'track', 'alias', 'page', 'screen', 'group'] as const;
export type SegmentCallType = (typeof SEGMENT_CALL_TYPES)[number];
export const isSegmentCallType = (value: unknown): value is SegmentCallType =>
  SEGMENT_CALL_TYPES.some((type) => type === value);

/** Segment's own limits: 32 KB per call, 500 KB per batch request. */
export const SEGMENT_MAX_CALL_BYTES = 32 * 1024;
export const SEGMENT_MAX_BATCH_BYTES = 500 * 1024;

/** Every custom track, page, screen and group event's type starts with this. */
export const SEGMENT_EVENT_PREFIX = 'segment.';

export type SegmentMapping = { ok: true; event: RetailEventV1 } | { ok: false; issues: ValidationIssue[] };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The size Segment counts: the call as compact JSON, in bytes. */
export const jsonByteLength = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '');

/**
 * `Signed Up` → `segment.signed_up`: lowercase, every run of other characters one `_`, under the
 * `segment.` prefix so no Segment name can pose as one of our types. Undefined when nothing
 * fits our type pattern (a name that starts with a digit or has no letters or digits).
 */
export function segmentEventType(name: string): string | undefined {
  const words = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!/^[a-z]/.test(words) || words.length + SEGMENT_EVENT_PREFIX.length > 128) return undefined;
  return `${SEGMENT_EVENT_PREFIX}${words}`;
}

/** Segment sends numbers for money (`27.5`); ours are decimal strings with at most 4 places. */
function decimal(value: unknown): unknown {
  if (typeof value !== 'number') return value;
  // A negative or non-finite number still becomes text, so the refusal is the decimal rule's.
  return Number.isFinite(value) ? value.toFixed(4).replace(/\.?0+$/, '') : String(value);
}

const idText = (value: unknown): unknown => (typeof value === 'number' ? String(value) : value);

/** Builds one event and remembers where each of its fields came from, to name Segment's fields in issues. */
class EventDraft {
  readonly origins: [ours: string, theirs: string][] = [];
  readonly issues: ValidationIssue[] = [];

  from(ours: string, theirs: string): void {
    this.origins.push([ours, theirs]);
  }

  fail(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** Our issue path in Segment's terms: the longest recorded prefix is replaced. */
  translate(path: string): string {
    let best: [string, string] | undefined;
    for (const origin of this.origins) {
      const [ours] = origin;
      const covers = path === ours || path.startsWith(`${ours}.`) || path.startsWith(`${ours}[`);
      if (covers && (!best || ours.length > best[0].length)) best = origin;
    }
    return best ? `${best[1]}${path.slice(best[0].length)}` : path;
  }
}

/** `first_name` and `firstName` are both common in Segment traits; the first present wins. */
function pick(source: Json, keys: readonly string[]): [key: string, value: unknown] | undefined {
  for (const key of keys) if (source[key] !== undefined) return [key, source[key]];
  return undefined;
}

const KNOWN_TRAIT_KEYS: Record<'email' | 'phone' | 'firstName' | 'lastName' | 'birthday', readonly string[]> =
  {
    email: ['email'],
    phone: ['phone'],
    firstName: ['firstName', 'first_name'],
    lastName: ['lastName', 'last_name'],
    birthday: ['birthday'],
  };
/** Traits Segment defines that we keep elsewhere or not at all (`address` gives `country`). */
const CONSUMED_TRAIT_KEYS = new Set([...Object.values(KNOWN_TRAIT_KEYS).flat(), 'address']);

/**
 * Segment's identify traits as ours: the known ones by name, `timezone` and `locale` from the
 * context, `country` from the address; other scalars as custom traits, an object's scalars as
 * `<key>_<field>` (`company_name`), and arrays or deeper values as JSON text.
 */
function identifyTraits(call: Json, draft: EventDraft): Json {
  const source = isObject(call['traits']) ? call['traits'] : {};
  if (call['traits'] !== undefined && !isObject(call['traits'])) draft.fail('traits', 'must be an object');
  const context = isObject(call['context']) ? call['context'] : {};
  const traits: Json = {};
  for (const [ours, keys] of Object.entries(KNOWN_TRAIT_KEYS)) {
    const found = pick(source, keys);
    if (!found) continue;
    const [key, value] = found;
    // Segment's birthday is an ISO date or date-time; ours is the date.
    traits[ours] =
      ours === 'birthday' && typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)
        ? value.slice(0, 10)
        : value;
    draft.from(`traits.${ours}`, `traits.${key}`);
  }
  if (context['timezone'] !== undefined) {
    traits['timezone'] = context['timezone'];
    draft.from('traits.timezone', 'context.timezone');
  }
  if (context['locale'] !== undefined) {
    traits['locale'] = context['locale'];
    draft.from('traits.locale', 'context.locale');
  }
  const address = source['address'];
  if (isObject(address) && address['country'] !== undefined) {
    traits['country'] =
      typeof address['country'] === 'string' ? address['country'].toUpperCase() : address['country'];
    draft.from('traits.country', 'traits.address.country');
  }
  for (const [key, value] of Object.entries(source)) {
    if (CONSUMED_TRAIT_KEYS.has(key) || value === undefined) continue;
    if (isObject(value)) {
      for (const [field, inner] of Object.entries(value)) {
        traits[`${key}_${field}`] = customTraitValue(inner);
        draft.from(`traits.${key}_${field}`, `traits.${key}.${field}`);
      }
    } else traits[key] = customTraitValue(value);
  }
  if (isObject(address)) {
    for (const [field, inner] of Object.entries(address)) {
      if (field === 'country') continue;
      traits[`address_${field}`] = customTraitValue(inner);
      draft.from(`traits.address_${field}`, `traits.address.${field}`);
    }
  }
  return traits;
}

const customTraitValue = (value: unknown): unknown =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value) ? value : JSON.stringify(value);

/** Segment e-commerce spec v2 products as our order items. */
function orderItems(products: unknown, draft: EventDraft): unknown {
  if (products === undefined) return undefined;
  if (!Array.isArray(products)) {
    draft.fail('properties.products', 'must be an array of products');
    return undefined;
  }
  draft.from('properties.items', 'properties.products');
  return products.map((product: unknown, i) => {
    if (!isObject(product)) return product;
    const sku = pick(product, ['sku', 'product_id']);
    if (sku) draft.from(`properties.items[${i}].sku`, `properties.products[${i}].${sku[0]}`);
    return {
      sku: idText(sku?.[1]),
      ...(typeof product['name'] === 'string' ? { name: product['name'] } : {}),
      ...(typeof product['category'] === 'string' ? { category: product['category'] } : {}),
      quantity: product['quantity'] ?? 1,
      price: decimal(product['price']),
    };
  });
}

function money(properties: Json, ours: string, keys: readonly string[], draft: EventDraft): unknown {
  const found = pick(properties, keys);
  if (!found) {
    draft.fail(`properties.${keys[0]}`, `is required (${keys.join(' or ')})`);
    return undefined;
  }
  draft.from(`properties.${ours}`, `properties.${found[0]}`);
  return decimal(found[1]);
}

function currency(properties: Json, draft: EventDraft): unknown {
  draft.from('properties.currency', 'properties.currency');
  const value = properties['currency'];
  return typeof value === 'string' ? value.toUpperCase() : value;
}

function orderId(properties: Json, draft: EventDraft): unknown {
  const found = pick(properties, ['order_id', 'orderId']);
  if (!found) {
    draft.fail('properties.order_id', 'is required');
    return undefined;
  }
  draft.from('properties.orderId', `properties.${found[0]}`);
  return idText(found[1]);
}

/** Properties Segment's spec names that the mapping turned into ours. */
const omit = (source: Json, keys: readonly string[]): Json =>
  Object.fromEntries(Object.entries(source).filter(([key]) => !keys.includes(key)));

/** A track call's type and properties: the e-commerce spec's events as ours, any other as a custom event. */
function trackEvent(call: Json, draft: EventDraft): { type: unknown; properties: Json } {
  const name = call['event'];
  const properties = isObject(call['properties']) ? call['properties'] : {};
  if (call['properties'] !== undefined && !isObject(call['properties']))
    draft.fail('properties', 'must be an object');
  if (typeof name !== 'string' || name.trim() === '') {
    draft.fail('event', 'is required: the name of the track event, such as "Order Completed"');
    return { type: undefined, properties };
  }
  draft.from('type', 'event');
  switch (name) {
    case 'Order Completed':
      return {
        type: 'order.placed',
        properties: {
          ...omit(properties, ['order_id', 'orderId', 'total', 'revenue', 'products', 'coupon']),
          orderId: orderId(properties, draft),
          total: money(properties, 'total', ['total', 'revenue'], draft),
          currency: currency(properties, draft),
          ...(properties['products'] !== undefined
            ? { items: orderItems(properties['products'], draft) }
            : {}),
          ...(properties['coupon'] !== undefined ? { discountCode: properties['coupon'] } : {}),
        },
      };
    case 'Order Refunded':
      return {
        type: 'order.refunded',
        properties: {
          ...omit(properties, ['order_id', 'orderId', 'total', 'revenue', 'amount']),
          orderId: orderId(properties, draft),
          amount: money(properties, 'amount', ['total', 'revenue', 'amount'], draft),
          currency: currency(properties, draft),
        },
      };
    case 'Product Viewed': {
      const sku = pick(properties, ['sku', 'product_id']);
      if (!sku) draft.fail('properties.sku', 'is required (sku or product_id)');
      else draft.from('properties.sku', `properties.${sku[0]}`);
      return {
        type: 'product.viewed',
        properties: { ...omit(properties, ['sku', 'product_id']), sku: idText(sku?.[1]) },
      };
    }
    default: {
      const type = segmentEventType(name);
      if (type === undefined)
        draft.fail(
          'event',
          `"${name.slice(0, 100)}" cannot be named as an event type: it must start with a letter (after lowercasing, other characters become "_")`,
        );
      return { type, properties };
    }
  }
}

/**
 * Maps one Segment call (`type` from the body, or from the endpoint for a single call) to our
 * event and validates it with the rules of `POST /v1/events`. `receivedAt` stands in for a
 * missing `timestamp`, as Segment does.
 */
export function mapSegmentCall(
  call: unknown,
  endpointType: SegmentCallType | undefined,
  receivedAt: Date,
): SegmentMapping {
  if (!isObject(call)) return { ok: false, issues: [{ path: '', message: 'a call must be a JSON object' }] };
  const size = jsonByteLength(call);
  if (size > SEGMENT_MAX_CALL_BYTES)
    return {
      ok: false,
      issues: [{ path: '', message: `a call must be at most 32 KB as JSON (got ${size} bytes)` }],
    };
  const type = endpointType ?? call['type'];
  if (!isSegmentCallType(type))
    return {
      ok: false,
      issues: [{ path: 'type', message: `must be one of ${SEGMENT_CALL_TYPES.join(', ')}` }],
    };

  const draft = new EventDraft();
  const messageId = call['messageId'];
  if (typeof messageId !== 'string' || messageId === '')
    draft.fail('messageId', 'is required: it is the eventId, so that a retried call counts as a duplicate');
  draft.from('eventId', 'messageId');
  const timestamp = call['timestamp'] instanceof Date ? call['timestamp'].toISOString() : call['timestamp'];
  draft.from('occurredAt', timestamp === undefined ? 'receivedAt' : 'timestamp');

  const customerId = idText(call['userId']);
  let anonymousId = idText(call['anonymousId']);
  draft.from('customerId', 'userId');
  let eventType: unknown;
  let properties: Json | undefined;
  let traits: Json | undefined;
  switch (type) {
    case 'identify':
      eventType = 'customer.updated';
      traits = identifyTraits(call, draft);
      draft.from('anonymousId', 'anonymousId');
      break;
    case 'alias':
      // The old id (often the visitor's anonymousId) becomes linked to the new userId.
      eventType = 'identity.linked';
      anonymousId = idText(call['previousId']);
      if (customerId === undefined) draft.fail('userId', 'is required for alias');
      if (anonymousId === undefined) draft.fail('previousId', 'is required for alias');
      draft.from('anonymousId', 'previousId');
      break;
    case 'track':
      ({ type: eventType, properties } = trackEvent(call, draft));
      draft.from('anonymousId', 'anonymousId');
      break;
    case 'page':
    case 'screen': {
      eventType = `${SEGMENT_EVENT_PREFIX}${type}_viewed`;
      const given = isObject(call['properties']) ? call['properties'] : {};
      properties = {
        ...given,
        ...(call['name'] !== undefined ? { name: call['name'] } : {}),
        ...(call['category'] !== undefined ? { category: call['category'] } : {}),
      };
      draft.from('anonymousId', 'anonymousId');
      break;
    }
    case 'group':
      eventType = `${SEGMENT_EVENT_PREFIX}group_joined`;
      if (call['groupId'] === undefined) draft.fail('groupId', 'is required for group');
      properties = {
        groupId: idText(call['groupId']),
        ...(isObject(call['traits']) ? { traits: call['traits'] } : {}),
      };
      draft.from('anonymousId', 'anonymousId');
      break;
  }
  if (draft.issues.length > 0) return { ok: false, issues: draft.issues };

  const candidate = {
    eventId: messageId,
    type: eventType,
    occurredAt: timestamp ?? receivedAt.toISOString(),
    ...(customerId !== undefined ? { customerId } : {}),
    ...(anonymousId !== undefined ? { anonymousId } : {}),
    ...(traits !== undefined ? { traits } : {}),
    ...(properties !== undefined ? { properties } : {}),
  };
  const result = validate(RetailEventV1, candidate);
  if (result.ok) return { ok: true, event: result.value };
  return {
    ok: false,
    issues: result.issues.map((issue) => ({ path: draft.translate(issue.path), message: issue.message })),
  };
}

/** `{ "batch": [...] }` of `/v1/segment/batch`: the calls, or why the request as a whole is refused. */
export function segmentBatchCalls(
  body: unknown,
):
  | { ok: true; calls: unknown[] }
  | { ok: false; tooLarge: boolean; message: string; issues: ValidationIssue[] } {
  if (!isObject(body) || !Array.isArray(body['batch']))
    return {
      ok: false,
      tooLarge: false,
      message: 'the body must be { "batch": [ ... ] }',
      issues: [{ path: 'batch', message: 'must be an array of calls' }],
    };
  const size = jsonByteLength(body);
  if (size > SEGMENT_MAX_BATCH_BYTES)
    return {
      ok: false,
      tooLarge: true,
      message: `a batch must be at most 500 KB as JSON (got ${size} bytes)`,
      issues: [{ path: 'batch', message: `must be at most 500 KB as JSON (got ${size} bytes)` }],
    };
  return { ok: true, calls: body['batch'] };
}
