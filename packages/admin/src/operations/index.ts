export { operationsApi } from './api.js';
export { BarChart, LineChart, niceMax } from './charts.js';
export { CSV_COLUMNS, statsCsv } from './csv.js';
export { operationsRoutes } from './routes.js';
export type {
  HealthCheck,
  OperationsSource,
  RegionHealth,
  StatsAnswer,
  StatsQuery,
  StatsRow,
} from './source.js';
