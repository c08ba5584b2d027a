import { testResultResolvers } from '../../platform/sources/resolvers.ts';
import type { Resolvers } from './generated/resolver-types.ts';

/** SaferApp's resolvers: the shared source resolvers on its field, checked against its generated types. */
export const resolvers = testResultResolvers('saferAppResults', 'SaferApp') satisfies Resolvers;
