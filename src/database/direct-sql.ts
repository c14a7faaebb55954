import type { ClientBase, QueryConfig, QueryResultRow } from 'pg';
import type { Sequelize, Transaction } from 'sequelize';

/**
 * Runs SQL on the pg connection that a Sequelize transaction holds, without Sequelize's query building and
 * model instances. The processor sends every statement of a subscriber this way: the ORM's work per statement
 * cost more CPU than PostgreSQL's (docs/BENCHMARKS.md). Statements given a `name` are prepared once per
 * connection, so PostgreSQL parses and plans them once.
 *
 * Errors are pg's own `DatabaseError`, with the SQLSTATE in `code`, not Sequelize's error classes.
 */
export class TransactionSql {
  private readonly connection: ClientBase;

  constructor(transaction: Transaction) {
    // Sequelize 6 keeps the transaction's pg client as `connection`, which its typings leave out.
    const connection = (transaction as unknown as { connection?: ClientBase }).connection;
    if (typeof connection?.query !== 'function') {
      throw new Error('The Sequelize transaction has no pg connection: check the Sequelize version against src/database/direct-sql.ts');
    }
    this.connection = connection;
  }

  /** Runs one statement and returns its rows. */
  async rows<Row extends QueryResultRow>(query: QueryConfig): Promise<Row[]> {
    const result = await this.connection.query<Row>(query);
    return result.rows;
  }

  /** Runs statements without parameters, separated by semicolons, in one round trip. */
  async script(sql: string): Promise<void> {
    await this.connection.query(sql);
  }
}

/**
 * Runs one statement on a connection from Sequelize's pool, outside any transaction, without Sequelize's query
 * path: for a hot statement such as the signup insert. Give it a `name` to have it prepared once per connection.
 * A connection that failed is marked invalid by Sequelize's error listener, and the pool drops it.
 */
export async function pooledRows<Row extends QueryResultRow>(sequelize: Sequelize, query: QueryConfig): Promise<Row[]> {
  const connection = (await sequelize.connectionManager.getConnection({ type: 'write' })) as ClientBase;
  try {
    const result = await connection.query<Row>(query);
    return result.rows;
  } finally {
    sequelize.connectionManager.releaseConnection(connection);
  }
}

/** SQLSTATE of a pg error, or undefined for anything else. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
