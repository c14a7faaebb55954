// Spreadsheets run a cell that starts with =, +, - or @ (and some with a tab or carriage return) as a
// formula, so a name such as =HYPERLINK(...) in an export could act when opened. Such cells get a leading
// apostrophe, which spreadsheets show as text. Cells that already start with apostrophes before one of
// those characters get one more, so that `restoreCell` returns exactly the original text on import.
const FORMULA_START = /^'*[=+\-@\t\r]/;
const NEUTRALISED = /^'+[=+\-@\t\r]/;

/** Prefixes an apostrophe to a cell a spreadsheet would run as a formula. */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** Removes the apostrophe that `neutraliseCell` added, so exported files import unchanged. */
export function restoreCell(value: string): string {
  return NEUTRALISED.test(value) ? value.slice(1) : value;
}
