import { CreateMilestonesTables1764000000000 } from './1764000000000-create-milestones-tables';
import { ScheduleFromEventTime1764100000000 } from './1764100000000-schedule-from-event-time';

export const milestonesMigrations = [CreateMilestonesTables1764000000000, ScheduleFromEventTime1764100000000];
