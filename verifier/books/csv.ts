/**
 * CSV as RFC 4180 writes it, so a spreadsheet opens the books as they are: a header row, fields
 * separated by commas, a field quoted when it holds a comma, a quote, CR or LF (its quotes
 * doubled), lines ended by CRLF. Money goes out twice (docs/ACCOUNTING.md): as a decimal yuan
 * string (`yuanDecimal`, exact from fen, no float) and as the integer fen.
 */

export type CsvValue = string | number | bigint | boolean | undefined;

/** One field, quoted when it must be. */
export function csvField(value: CsvValue): string {
  const s = value === undefined ? "" : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A whole file: the header and the rows, each line ended by CRLF. */
export function csv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(",") + "\r\n").join("");
}

/** `123456n` -> `"1234.56"`, `-5n` -> `"-0.05"`: yuan with two decimals, exact. */
export function yuanDecimal(fen: bigint): string {
  const negative = fen < 0n;
  const abs = negative ? -fen : fen;
  return `${negative ? "-" : ""}${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}`;
}

/** Parses RFC 4180 text back into rows (for tests and for checking an export). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\r" && text[i + 1] === "\n") { row.push(field); rows.push(row); row = []; field = ""; i++; }
    else field += c;
  }
  if (field !== "" || row.length > 0) { row.push(field); rows.push(row); }
  return rows;
}
