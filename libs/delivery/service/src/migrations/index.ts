import { CreateDeliveryTables1764000000000 } from './1764000000000-create-delivery-tables';

export const deliveryMigrations = [CreateDeliveryTables1764000000000];
