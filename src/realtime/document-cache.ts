import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema, type ParseOptions, type ValidationRule } from 'graphql';

/** A document that parsed and passed every rule, with a short id naming it in selection keys. */
export interface ValidDocument {
  id: number;
  document: DocumentNode;
}

/**
 * graphql-ws parses and validates every `subscribe` message; thousands of sockets send the same
 * few documents. Like Apollo's document store, a document that parsed and validated is kept by its
 * text, so each distinct query is parsed and validated once and every socket shares one AST.
 * The rules (graphql's, the limits, introspection in production) depend on the text only, never on
 * the caller, so a cached verdict holds for everyone. Refused documents are not kept: a client
 * sending junk pays for its own parse, and cannot fill the cache with it.
 *
 * Bounded by the text it holds (LRU): a document's AST is a few times its text, and the token
 * limit caps each one, so the budget bounds the memory whatever clients send.
 */
export class DocumentCache {
  private readonly entries = new Map<string, ValidDocument>();
  private heldChars = 0;
  private nextId = 1;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly rules: readonly ValidationRule[],
    private readonly parseOptions: ParseOptions,
    private readonly maxChars = 2 * 1024 * 1024,
  ) {}

  /** Parses and validates one text (the tests count the calls). */
  compile(query: string): DocumentNode | readonly GraphQLError[] {
    let document: DocumentNode;
    try {
      document = parse(query, this.parseOptions);
    } catch (error) {
      return [new GraphQLError((error as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
    }
    const errors = validate(this.schema, document, this.rules);
    if (errors.length) return errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
    return document;
  }

  /** The valid document for this text, or the errors to refuse it with (codes as Apollo gives them). */
  get(query: string): ValidDocument | readonly GraphQLError[] {
    const hit = this.entries.get(query);
    if (hit) {
      // Most recently used last: eviction takes the first.
      this.entries.delete(query);
      this.entries.set(query, hit);
      return hit;
    }
    const compiled = this.compile(query);
    if (!('kind' in compiled)) return compiled;
    const entry = { id: this.nextId++, document: compiled };
    if (query.length <= this.maxChars) {
      this.entries.set(query, entry);
      this.heldChars += query.length;
      for (const [text] of this.entries) {
        if (this.heldChars <= this.maxChars) break;
        this.entries.delete(text);
        this.heldChars -= text.length;
      }
    }
    return entry;
  }
}
