import { svg } from 'lit';

/** Inline icons (stroke follows currentColor), so the app loads nothing but its bundle. */
const icon = (body: ReturnType<typeof svg>) =>
  svg`<svg viewBox="0 0 24 24" width="1.1em" height="1.1em" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${body}</svg>`;

export const logoIcon = svg`<svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true"><rect width="32" height="32" rx="8" fill="var(--accent)"/><path d="M6 19c3 0 3-3 6.5-3S16 19 19.5 19 23 16 26 16M6 13c3 0 3-3 6.5-3S16 13 19.5 13 23 10 26 10" stroke="white" stroke-width="2.4" fill="none" stroke-linecap="round"/></svg>`;
export const diskIcon = icon(svg`<rect x="3" y="4" width="18" height="7" rx="2"/><rect x="3" y="13" width="18" height="7" rx="2"/><path d="M7 7.5h.01M7 16.5h.01"/>`);
export const browserIcon = icon(svg`<rect x="3" y="4" width="18" height="16" rx="2"/><path d="M3 9h18M7 6.5h.01M10 6.5h.01"/>`);
export const uploadIcon = icon(svg`<path d="M12 16V4M7 9l5-5 5 5"/><path d="M4 16v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-2"/>`);
export const downloadIcon = icon(svg`<path d="M12 4v12M7 11l5 5 5-5"/><path d="M4 16v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-2"/>`);
export const plusIcon = icon(svg`<path d="M12 5v14M5 12h14"/>`);
export const fileIcon = icon(svg`<path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z"/><path d="M14 3v5h5"/>`);
export const folderIcon = icon(svg`<path d="M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z"/>`);
