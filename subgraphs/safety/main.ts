import { runSubgraph } from '../../platform/service/run.ts';
import { safety } from './subgraph.ts';

await runSubgraph(safety);
