/** The part of sql.js (SQLite compiled to WebAssembly) that the .bgi reader uses. */
declare module 'sql.js' {
  export interface QueryExecResult {
    columns: string[];
    values: (number | string | Uint8Array | null)[][];
  }
  export interface Statement {
    bind(values: (number | string)[]): boolean;
    step(): boolean;
    get(): (number | string | Uint8Array | null)[];
    free(): boolean;
  }
  export interface Database {
    exec(sql: string): QueryExecResult[];
    prepare(sql: string): Statement;
    close(): void;
  }
  export interface SqlJsStatic {
    Database: new (data?: Uint8Array) => Database;
  }
  export default function initSqlJs(config?: { locateFile?: (file: string) => string }): Promise<SqlJsStatic>;
}
