export * from './attribution';
export * from './journey-report';
export * from './lift';
export * from './machine-traffic';
