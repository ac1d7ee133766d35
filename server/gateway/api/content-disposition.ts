/**
 * `Content-Disposition: attachment` for a download named after the file's last segment: the
 * browser saves it rather than rendering it on the gateway's origin. `filename*` carries the name
 * exactly (RFC 8187, UTF-8 percent-encoded); `filename` is a plain ASCII stand-in for old clients,
 * without quotes, backslashes or controls, so no name can break out of the header.
 */
export function attachment(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const fallback = base.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(base).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
