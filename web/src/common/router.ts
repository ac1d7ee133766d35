export type Route = 'dashboard' | 'files' | 'node';

export const ROUTE_PATHS: Record<Route, string> = { dashboard: '/', files: '/files', node: '/node' };

export function routeFor(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  return (Object.keys(ROUTE_PATHS) as Route[]).find((route) => ROUTE_PATHS[route] === path) ?? 'dashboard';
}

/**
 * Follows clicks on links to the app's own pages without a reload, so a tab that is a storage node
 * stays one while its user looks at the dashboard. Links inside shadow roots count too.
 */
export function interceptLinks(navigate: (url: URL) => void): () => void {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = event.composedPath().find((el): el is HTMLAnchorElement => el instanceof HTMLAnchorElement);
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    event.preventDefault();
    if (url.href !== location.href) history.pushState(null, '', url);
    navigate(url);
  };
  document.addEventListener('click', onClick);
  return () => document.removeEventListener('click', onClick);
}
