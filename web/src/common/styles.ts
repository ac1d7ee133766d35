import { css } from 'lit';

/** What every element shares: the colours come from custom properties on :root in index.html. */
export const baseStyles = css`
  :host {
    display: block;
    box-sizing: border-box;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  :host([hidden]),
  [hidden] {
    display: none !important;
  }
  h1,
  h2,
  h3 {
    margin: 0;
    line-height: 1.25;
  }
  h1 {
    font-size: 1.5rem;
    font-weight: 650;
    letter-spacing: -0.01em;
  }
  h2 {
    font-size: 1.05rem;
    font-weight: 600;
  }
  p {
    margin: 0;
  }
  /* Every list in the app is a list of things, not of bullet points. */
  ul,
  ol {
    list-style: none;
    margin: 0;
    padding: 0;
  }
  a {
    color: var(--accent);
  }
  code,
  .mono {
    font-family: var(--mono);
    font-size: 0.9em;
  }
  .muted {
    color: var(--muted);
  }
  .card {
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: var(--radius);
    box-shadow: var(--shadow);
    padding: 1.1rem 1.25rem;
  }
  .page-head {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: space-between;
    gap: 0.75rem 1rem;
    margin-bottom: 1.25rem;
  }
  .page-head p {
    color: var(--muted);
    margin-top: 0.2rem;
  }
  .section-head {
    display: flex;
    align-items: baseline;
    justify-content: space-between;
    gap: 1rem;
    margin: 1.75rem 0 0.75rem;
  }
  .banner {
    border-radius: var(--radius);
    padding: 0.75rem 1rem;
    background: var(--bad-soft);
    color: var(--bad);
    border: 1px solid color-mix(in srgb, var(--bad) 25%, transparent);
  }
  /* The gateway's own words under a banner's explanation. */
  .banner small {
    display: block;
    font-family: var(--mono);
    font-size: 0.8rem;
    /* Set apart by the typeface, not by fading: faded red on its tint falls below AA contrast. */
    margin-top: 0.2rem;
  }
  .banner.info {
    background: var(--accent-soft);
    color: var(--text);
    border-color: color-mix(in srgb, var(--accent) 25%, transparent);
  }
  /* Figures: a small-caps term over its value. */
  dl {
    margin: 0;
  }
  dt {
    font-size: 0.72rem;
    text-transform: uppercase;
    letter-spacing: 0.04em;
    color: var(--muted);
    white-space: nowrap;
  }
  dd {
    margin: 0.1rem 0 0;
    font-weight: 550;
    font-variant-numeric: tabular-nums;
  }
  button,
  .button {
    font: inherit;
    font-weight: 550;
    font-size: 0.92rem;
    display: inline-flex;
    align-items: center;
    gap: 0.4rem;
    padding: 0.5rem 0.9rem;
    border-radius: 8px;
    border: 1px solid var(--border);
    background: var(--surface);
    color: var(--text);
    cursor: pointer;
    text-decoration: none;
    white-space: nowrap;
  }
  button:hover,
  .button:hover {
    border-color: var(--muted);
  }
  button:disabled {
    opacity: 0.55;
    cursor: default;
  }
  button.primary,
  .button.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: white;
  }
  button.primary:hover,
  .button.primary:hover {
    filter: brightness(1.08);
  }
  button.danger {
    color: var(--bad);
  }
  button.danger.armed {
    background: var(--bad);
    border-color: var(--bad);
    color: white;
  }
  button.small,
  .button.small {
    padding: 0.3rem 0.6rem;
    font-size: 0.85rem;
  }
  input[type='number'],
  input[type='text'],
  select {
    font: inherit;
    padding: 0.45rem 0.6rem;
    border-radius: 8px;
    border: 1px solid var(--border);
    background: var(--surface);
    color: var(--text);
  }
`;
