// How codes read on screen.

/** Groups a code for reading: "123 456", "1234 5678"; Steam codes (letters) stay as they are. */
export function groupCode(code, kind) {
  if (kind === "steam" || code.length < 6) return code;
  const half = Math.floor(code.length / 2);
  return `${code.slice(0, half)} ${code.slice(half)}`;
}
