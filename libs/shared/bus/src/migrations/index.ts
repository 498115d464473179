import { CreateBusTables1780000000000 } from './1780000000000-create-bus-tables';

export const busMigrations = [CreateBusTables1780000000000];
