import { runSubgraph } from '../../platform/service/run.ts';
import { saferapp } from './subgraph.ts';

await runSubgraph(saferapp);
