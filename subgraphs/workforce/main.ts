import { runSubgraph } from '../../platform/service/run.ts';
import { workforce } from './subgraph.ts';

await runSubgraph(workforce);
