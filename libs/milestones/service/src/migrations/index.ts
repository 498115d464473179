import { CreateMilestonesTables1764000000000 } from './1764000000000-create-milestones-tables';
import { ScheduleFromEventTime1764100000000 } from './1764100000000-schedule-from-event-time';
import { OccurrencesRecordedAt1764400000000 } from './1764400000000-occurrences-recorded-at';

export const milestonesMigrations = [
  CreateMilestonesTables1764000000000,
  ScheduleFromEventTime1764100000000,
  OccurrencesRecordedAt1764400000000,
];
