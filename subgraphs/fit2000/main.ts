import { runSubgraph } from '../../platform/service/run.ts';
import { fit2000 } from './subgraph.ts';

await runSubgraph(fit2000);
