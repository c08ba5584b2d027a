import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { pseudonymMacrosSql } from '../sql/pseudonym.ts';

/** Options every projector DuckDB session uses: bounded memory, a scratch folder. Timestamps are TIMESTAMP (no zone) holding UTC. */
export interface DuckDbOptions {
  threads?: number;
  memoryLimit?: string;
  tempDirectory?: string;
  pseudonymKey: string;
}

/** An in-memory DuckDB with the pseudonym macros defined; the caller closes it. */
export async function openDuckDb(options: DuckDbOptions): Promise<{ connection: DuckDBConnection; close(): void }> {
  const config: Record<string, string> = {
    // One thread by default: the other core is busy with PostgreSQL producing the next batch.
    threads: String(options.threads ?? 1),
    memory_limit: options.memoryLimit ?? '512MB',
    // Row order inside a file does not matter (positions are columns); dropping it saves memory.
    preserve_insertion_order: 'false',
    // The projector must work offline and never fetch extensions at run time.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  };
  if (options.tempDirectory) config.temp_directory = options.tempDirectory;
  const instance = await DuckDBInstance.create(':memory:', config);
  const connection = await instance.connect();
  await connection.run(pseudonymMacrosSql(options.pseudonymKey));
  return {
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Parquet options for every file the projector writes: zstd level 1, no bloom filters. */
export const PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 122880";
