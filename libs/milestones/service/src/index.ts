export * from './milestones.module';
export * from './usecases/fire-due-milestones/milestone.scheduler';
export * from './usecases/fire-due-milestones/fire-due-milestones.usecase';
export * from './usecases/cover-program/cover-program.usecase';
export * from './usecases/publish-occurrences/publish-occurrences.usecase';
