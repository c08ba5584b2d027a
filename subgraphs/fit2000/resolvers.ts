import { testResultResolvers } from '../../platform/sources/resolvers.ts';
import type { Resolvers } from './generated/resolver-types.ts';

/** Fit2000's resolvers: the shared source resolvers on its field, checked against its generated types. */
export const resolvers = testResultResolvers('fit2000Results', 'Fit2000') satisfies Resolvers;
