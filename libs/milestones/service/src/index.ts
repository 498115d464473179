export * from './milestones.module';
