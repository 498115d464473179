import { CreateDeliveryTables1764000000000 } from './1764000000000-create-delivery-tables';
import { PushTokenAndDeadLetterOutboxes1764100000000 } from './1764100000000-push-token-and-dead-letter-outboxes';
import { StatusOutboxSweep1764200000000 } from './1764200000000-status-outbox-sweep';
import { MessageLogIndexes1764400000000 } from './1764400000000-message-log-indexes';
import { StaleHandoverIndex1764500000000 } from './1764500000000-stale-handover-index';

export const deliveryMigrations = [
  CreateDeliveryTables1764000000000,
  PushTokenAndDeadLetterOutboxes1764100000000,
  StatusOutboxSweep1764200000000,
  MessageLogIndexes1764400000000,
  StaleHandoverIndex1764500000000,
];
