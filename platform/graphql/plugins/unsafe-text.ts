import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, visit, type DocumentNode, type ValueNode } from 'graphql';
import { BadUserInputError } from '../../errors.ts';

/**
 * Text PostgreSQL cannot store: U+0000 (refused in `text` and `jsonb`) and UTF-16
 * surrogates without their partner (not Unicode; `jsonb` refuses their escapes).
 */
const UNSAFE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What is wrong with a string, or null when a database can store it. */
export function unsafeTextProblem(text: string): string | null {
  const found = UNSAFE.exec(text);
  if (!found) return null;
  if (found[0] === '\u0000') return 'contains a NUL character (U+0000)';
  return `contains an unpaired surrogate (U+${found[0].charCodeAt(0).toString(16).toUpperCase()}), which is not Unicode text`;
}

interface Found {
  /** Where the string sits from the argument down: `input.name`, `ids[2]`. */
  path: string;
  /** The innermost argument or input field name. */
  field: string;
  problem: string;
}

const step = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

/** The first unsafe string in a JSON-like value (a variable's value), with its path. */
function inValue(value: unknown, path: string, field: string): Found | null {
  if (typeof value === 'string') {
    const problem = unsafeTextProblem(value);
    return problem ? { path, field, problem } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = inValue(value[i], step(path, i), field);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      const found = inValue(v, step(path, key), key);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Walks a literal argument value: reports an unsafe string literal, and notes under which
 * argument path each variable is used so a variable's problem can name that argument.
 */
function inLiteral(node: ValueNode, path: string, field: string, usedAt: Map<string, { path: string; field: string }>): Found | null {
  switch (node.kind) {
    case Kind.STRING: {
      const problem = unsafeTextProblem(node.value);
      return problem ? { path, field, problem } : null;
    }
    case Kind.VARIABLE:
      if (!usedAt.has(node.name.value)) usedAt.set(node.name.value, { path, field });
      return null;
    case Kind.LIST:
      for (let i = 0; i < node.values.length; i++) {
        const found = inLiteral(node.values[i], step(path, i), field, usedAt);
        if (found) return found;
      }
      return null;
    case Kind.OBJECT:
      for (const f of node.fields) {
        const found = inLiteral(f.value, step(path, f.name.value), f.name.value, usedAt);
        if (found) return found;
      }
      return null;
    default:
      return null;
  }
}

/**
 * What a document's literals hold: the first unsafe string written in it, and where each
 * variable is used. Per parsed document (Apollo keeps one per query text), so a request
 * walks only its variables.
 */
const literalsOf = new WeakMap<DocumentNode, { found: Found | null; usedAt: Map<string, { path: string; field: string }> }>();

function literals(document: DocumentNode) {
  let known = literalsOf.get(document);
  if (!known) {
    const usedAt = new Map<string, { path: string; field: string }>();
    let found = null as Found | null;
    visit(document, {
      Argument(node) {
        found ??= inLiteral(node.value, node.name.value, node.name.value, usedAt);
      },
      VariableDefinition(node) {
        const name = `$${node.variable.name.value}`;
        if (node.defaultValue) found ??= inLiteral(node.defaultValue, name, node.variable.name.value, usedAt);
      },
    });
    known = { found, usedAt };
    literalsOf.set(document, known);
  }
  return known;
}

/** The first unsafe string an operation would hand to resolvers: in its literals, then in its variables. */
export function findUnsafeText(document: DocumentNode, variables: Record<string, unknown> = {}): Found | null {
  const { found: inLiterals, usedAt } = literals(document);
  if (inLiterals) return inLiterals;
  for (const [name, value] of Object.entries(variables)) {
    const at = usedAt.get(name) ?? { path: `$${name}`, field: name };
    const found = inValue(value, at.path, at.field);
    if (found) return found;
  }
  return null;
}

/**
 * Refuses, before anything executes, a string no database here can store (NUL, lone
 * surrogates) anywhere in the operation: every string argument of every subgraph, at
 * any depth of input objects and lists, written inline or sent as a variable. Without
 * this such a string reached PostgreSQL and came back as an internal error, or was
 * compared in a WHERE clause that could never match it.
 */
export function unsafeTextPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          const found = findUnsafeText(document, request.variables ?? {});
          if (!found) return;
          const error = new BadUserInputError(`${found.path} ${found.problem}`, found.field);
          Object.assign(error.extensions, { http: { status: 400 } });
          throw error;
        },
      };
    },
  };
}
