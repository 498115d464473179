export { formatReport } from './report';
export { generateHistory, gridStart, type History, type HistoryOptions, type Stage } from './history';
export { runChaos, type ChaosOptions, type ChaosReport } from './run';
