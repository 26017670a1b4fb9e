/**
 * A lint for SQL sent to Oracle Database 23ai: what the server would refuse (or silently get wrong) that
 * SQLite accepts, so the SQLite suites cannot notice. It works on tokens (quoted identifiers and string
 * literals are never mistaken for keywords) and is run on every compiled repository query, every migration
 * statement, and every statement the Oracle double executes. It is a lint, not a parser: it checks the
 * things that differ between the two dialects we run, listed in RULES.
 */

/** Oracle SQL reserved words (SQL Language Reference, appendix "Oracle SQL Reserved Words"). */
export const ORACLE_RESERVED_WORDS = new Set(
  `ACCESS ADD ALL ALTER AND ANY AS ASC AUDIT BETWEEN BY CHAR CHECK CLUSTER COLUMN COMMENT COMPRESS CONNECT CREATE
  CURRENT DATE DECIMAL DEFAULT DELETE DESC DISTINCT DROP ELSE EXCLUSIVE EXISTS FILE FLOAT FOR FROM GRANT GROUP
  HAVING IDENTIFIED IMMEDIATE IN INCREMENT INDEX INITIAL INSERT INTEGER INTERSECT INTO IS LEVEL LIKE LOCK LONG
  MAXEXTENTS MINUS MLSLABEL MODE MODIFY NOAUDIT NOCOMPRESS NOT NOWAIT NULL NUMBER OF OFFLINE ON ONLINE OPTION OR
  ORDER PCTFREE PRIOR PUBLIC RAW RENAME RESOURCE REVOKE ROW ROWID ROWNUM ROWS SELECT SESSION SET SHARE SIZE
  SMALLINT START SUCCESSFUL SYNONYM SYSDATE TABLE THEN TO TRIGGER UID UNION UNIQUE UPDATE USER VALIDATE VALUES
  VARCHAR VARCHAR2 VIEW WHENEVER WHERE WITH`.split(/\s+/),
);

/** Longest identifier Oracle accepts since 12.2 (bytes). */
export const ORACLE_MAX_IDENTIFIER_BYTES = 128;
/** Most expressions an IN list may hold (ORA-01795). */
export const ORACLE_MAX_IN_LIST = 1000;
/** Longest VARCHAR2 with the default MAX_STRING_SIZE = STANDARD (bytes). */
export const ORACLE_MAX_VARCHAR = 4000;

type TokenKind = 'ident' | 'string' | 'word' | 'number' | 'bind' | 'punct';
interface Token {
  kind: TokenKind;
  text: string;
}

export function tokenizeSql(sql: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s+|--[^\n]*|\/\*[\s\S]*?\*\/|"((?:[^"]|"")*)"|'((?:[^']|'')*)'|(:\d+|:[A-Za-z_]\w*|\?\d*|\$\d+)|([A-Za-z_][\w$#]*)|(\d+(?:\.\d+)?)|(\|\||<>|!=|<=|>=|:=|=>|.)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(sql)) && m[0] !== '') {
    if (m[1] !== undefined) tokens.push({ kind: 'ident', text: m[1].replace(/""/g, '"') });
    else if (m[2] !== undefined) tokens.push({ kind: 'string', text: m[2] });
    else if (m[3] !== undefined) tokens.push({ kind: 'bind', text: m[3] });
    else if (m[4] !== undefined) tokens.push({ kind: 'word', text: m[4] });
    else if (m[5] !== undefined) tokens.push({ kind: 'number', text: m[5] });
    else if (m[6] !== undefined) tokens.push({ kind: 'punct', text: m[6] });
  }
  return tokens;
}

const word = (t: Token | undefined, ...w: string[]) => t?.kind === 'word' && w.includes(t.text.toLowerCase());

/** Which statements the 23ai IF [NOT] EXISTS clause exists for (CREATE/DROP of these object types). */
const IF_EXISTS_OBJECTS = ['table', 'index', 'sequence', 'view', 'user', 'synonym', 'trigger', 'procedure', 'function', 'package', 'type'];

/** Types SQLite (or PostgreSQL/MySQL) take that Oracle has no such name for. */
const FOREIGN_TYPES = new Set(['text', 'bigint', 'tinyint', 'mediumint', 'serial', 'bigserial', 'datetime', 'double', 'bool', 'autoincrement', 'auto_increment']);

/** Functions and operators of other dialects that Oracle lacks. */
const FOREIGN_FUNCTIONS = new Set(['ifnull', 'group_concat', 'now', 'strftime', 'datetime', 'julianday', 'random', 'string_agg', 'date_trunc', 'iif', 'printf', 'unixepoch']);

/**
 * Problems Oracle 23ai would have with one statement (empty when none). PL/SQL blocks (BEGIN/DECLARE) are
 * checked for bind style and identifiers only.
 */
export function lintOracleSql(sql: string): string[] {
  const problems: string[] = [];
  const tokens = tokenizeSql(sql);
  const say = (p: string) => {
    if (!problems.includes(p)) problems.push(p);
  };
  const plsql = word(tokens[0], 'begin', 'declare');
  const first = tokens[0]?.text.toLowerCase();
  const isDdl = word(tokens[0], 'create', 'alter', 'drop');

  if (!plsql && sql.trim().endsWith(';')) say('trailing semicolon: oracledb sends the text as one statement and Oracle refuses the `;` (ORA-00933/ORA-03405)');
  if (sql.includes('`')) say('backtick quoting is MySQL; Oracle quotes identifiers with "');

  let inListDepth = -1;
  let inListCount = 0;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    const lower = t.text.toLowerCase();

    if (t.kind === 'bind' && !/^:\d+$|^:[A-Za-z_]\w*$/.test(t.text)) say(`bind ${t.text}: Oracle binds are :1, :2 … (or :name)`);
    if (t.kind === 'ident') {
      if (Buffer.byteLength(t.text) > ORACLE_MAX_IDENTIFIER_BYTES) say(`identifier "${t.text.slice(0, 20)}…" is longer than ${ORACLE_MAX_IDENTIFIER_BYTES} bytes (ORA-00972)`);
      if (t.text === '') say('empty quoted identifier "" (ORA-01741)');
      if (ORACLE_RESERVED_WORDS.has(t.text.toUpperCase())) {
        say(`identifier "${t.text}" is an Oracle reserved word: legal only while quoted, and refused by every unquoted tool and query (ORA-00903/00904)`);
      }
    }
    if (t.kind === 'string' && t.text === '' && !plsql) {
      say("empty string literal '': Oracle stores and compares '' as NULL, so = '' is never true and '' inserts NULL");
    }
    if (t.kind === 'word' && !plsql) {
      if (lower === 'limit') say('LIMIT: Oracle has no LIMIT; use FETCH FIRST n ROWS ONLY (kysely: .fetch(n))');
      if (lower === 'returning') say('RETURNING: only RETURNING … INTO in PL/SQL; the Oracle dialect supports no RETURNING (insert, then select by id)');
      if (lower === 'ilike') say('ILIKE is PostgreSQL; use lower(x) LIKE lower(y)');
      if ((lower === 'true' || lower === 'false') && prev?.text !== '=>') {
        say(`boolean literal ${lower.toUpperCase()}: refused before 23ai and by our NUMBER/VARCHAR2 columns; bind 0/1`);
      }
      if (lower === 'on' && word(next, 'conflict')) say('ON CONFLICT is SQLite/PostgreSQL; Oracle uses MERGE (or insert and catch ORA-00001)');
      if (lower === 'or' && word(next, 'ignore', 'replace') && word(prev, 'insert')) say('INSERT OR IGNORE/REPLACE is SQLite; Oracle uses MERGE');
      if (lower === 'duplicate' && word(next, 'key')) say('ON DUPLICATE KEY is MySQL; Oracle uses MERGE');
      if (lower === 'offset' && !tokens.slice(i + 2, i + 4).some((n) => word(n, 'rows', 'row'))) say('OFFSET without ROWS: Oracle writes OFFSET n ROWS');
      if (FOREIGN_FUNCTIONS.has(lower) && next?.text === '(') say(`${lower}(): not an Oracle function`);
      if (isDdl && FOREIGN_TYPES.has(lower) && prev?.kind === 'ident') say(`column type ${lower}: not an Oracle type (CLOB, NUMBER(19), TIMESTAMP, BINARY_DOUBLE …)`);
      if (isDdl && (lower === 'varchar' || lower === 'varchar2' || lower === 'char' || lower === 'nvarchar2')) {
        if (next?.text !== '(') say(`${lower} without a length: Oracle requires one (ORA-00906)`);
        else if (Number(tokens[i + 2]?.text) > ORACLE_MAX_VARCHAR) say(`${lower}(${tokens[i + 2]?.text}): longer than ${ORACLE_MAX_VARCHAR} bytes; use CLOB`);
      }
      if (lower === 'if' && word(next, 'not', 'exists')) {
        const verb = tokens[0].text.toLowerCase();
        const objectWord = tokens.slice(1, i).find((x) => x.kind === 'word' && IF_EXISTS_OBJECTS.includes(x.text.toLowerCase()));
        const orReplace = tokens.slice(0, i).some((x, k) => word(x, 'or') && word(tokens[k + 1], 'replace'));
        const wantsNot = word(next, 'not');
        const ok = objectWord && !orReplace && (verb === 'create' ? wantsNot : !wantsNot);
        if (!ok) {
          say(`IF ${wantsNot ? 'NOT ' : ''}EXISTS here: 23ai takes it only as CREATE … IF NOT EXISTS, ALTER/DROP … IF EXISTS of a table, index, view, sequence, user …, and never with OR REPLACE`);
        }
      }
      if (lower === 'add' && word(next, 'column') && word(tokens[0], 'alter')) {
        say('ADD COLUMN: Oracle writes ALTER TABLE t ADD ("c" type) — the word COLUMN is refused (kysely addColumn needs a raw statement on Oracle)');
      }
      if ((lower === 'from' || lower === 'join') && next?.kind === 'ident' && word(tokens[i + 2], 'as') && tokens[i + 3]?.kind === 'ident') {
        say('AS before a table alias: Oracle refuses it (FROM "t" "x", not FROM "t" AS "x")');
      }
      if (lower === 'select' && next?.text === '*' && tokens[i + 2]?.text === ',') say('SELECT *, …: Oracle needs a qualified "t".* next to other columns');
      if (lower === 'in' && next?.text === '(' && !word(tokens[i + 2], 'select', 'with')) {
        inListDepth = depth;
        inListCount = 0;
      }
    }
    if (t.text === '(') depth++;
    if (t.text === ')') {
      depth--;
      if (inListDepth >= 0 && depth === inListDepth) {
        if (inListCount + 1 > ORACLE_MAX_IN_LIST) say(`IN list of ${inListCount + 1} expressions: Oracle takes at most ${ORACLE_MAX_IN_LIST} (ORA-01795)`);
        inListDepth = -1;
      }
    }
    if (t.text === ',' && inListDepth >= 0 && depth === inListDepth + 1) inListCount++;
  }
  if (first === undefined) say('empty statement');
  return problems;
}
