import { runSubgraph } from '../../platform/service/run.ts';
import { ciam } from './subgraph.ts';

await runSubgraph(ciam);
