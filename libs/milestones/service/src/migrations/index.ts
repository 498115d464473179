import { CreateMilestonesTables1764000000000 } from './1764000000000-create-milestones-tables';

export const milestonesMigrations = [CreateMilestonesTables1764000000000];
